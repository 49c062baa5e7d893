// The committed stacks' config as the e2e suites give it to the real engine: the VMs without their services (the
// docker plugin cannot be built here), the Proxmox API and each throughput gate pointed at a loopback address, and
// the config split into plain values and secrets as `pulumi config set` takes them.

import * as path from "path";
import { PROJECT_DIR, readStackConfig } from "./stackFiles";

/**
 * The stack file's config without the VMs' services (unless `services` is true: the docker stand-in of
 * testing/dockerStandIn.ts plans them), with the Proxmox API and (unless `gates` is false: the policy pack wants each
 * gate on its VM's address) each throughput gate at `url(scheme)`.
 */
export function previewOverrides(
    stack: string,
    url: (scheme: string) => string,
    opts: { gates?: boolean; services?: boolean } = {},
): Record<string, unknown> {
    const { config } = readStackConfig(stack);
    const vms = JSON.parse(config["ai-dualstack:vms"] as string) as Record<string, Record<string, unknown>>;
    for (const vm of Object.values(vms)) {
        if (opts.services !== true) delete vm["services"];
        if (opts.gates === false) continue;
        vm["throughputGate"] = { ...(vm["throughputGate"] as object), endpoint: url("http").replace(/\/$/, "") };
    }
    const proxmox = JSON.parse(config["ai-dualstack:proxmox"] as string) as Record<string, unknown>;
    return { vms, proxmox: { ...proxmox, endpoint: url("https") } };
}

/** Config as the engine takes it: objects decoded, secrets apart. */
export function engineConfig(
    stack: string,
    overrides: Record<string, unknown>,
): { plain: Record<string, unknown>; secrets: Record<string, unknown> } {
    const files = readStackConfig(stack, { overrides });
    const decode = (s: string): unknown => (/^[[{]/.test(s) ? JSON.parse(s) : s);
    const plain: Record<string, unknown> = {};
    const secrets: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(files.config)) {
        (files.secretKeys.includes(key) ? secrets : plain)[key] = decode(value);
    }
    return { plain, secrets };
}

/**
 * The project's own program as a module the language host runs from a work dir (EngineStack's `source`), so that
 * the CLI itself can run it (`pulumi preview --json`): offline (example values warned about, not refused) with
 * its hosts stood in as ready.
 */
export function programSource(): string {
    const at = (p: string) => JSON.stringify(path.join(PROJECT_DIR, p));
    return [
        `require("ts-node").register({ transpileOnly: true, project: ${at("tsconfig.json")} });`,
        `const { runProgram } = require(${at("stacks")});`,
        `const { assumeHosts } = require(${at("testing/planStack")});`,
        `module.exports = runProgram({ checkHosts: assumeHosts("ready"), offline: true });`,
        "",
    ].join("\n");
}
