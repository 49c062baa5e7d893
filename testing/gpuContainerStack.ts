// The public environment in its container form (issue 24): the shared host facts with the RTX 3060
// given to a container (the host's NVIDIA driver) and public-ai as that container. Config edits for
// the offline plan, the tests and the real-engine preview alike.

import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../lib/paths";

/** Debian 13's non-free driver branch 550, which drives the RTX 3060 (lib/nvidiaDrivers.ts). */
export const CONTAINER_DRIVER_VERSION = "550.163.01";

interface Yaml {
    config: Record<string, { value?: unknown }>;
}

/** The project's and the public stack's values with the 3060 and public-ai as a container. */
export function publicAsContainer(projectDir = PROJECT_ROOT): Record<string, unknown> {
    const project = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as Yaml;
    const stack = parse(fs.readFileSync(path.join(projectDir, "Pulumi.public.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    const nodes = structuredClone(project.config["nodes"]?.value) as Record<string, Record<string, unknown>>;
    const pve1 = nodes["pve1"] as Record<string, unknown> & {
        gpus: Record<string, Record<string, unknown>>;
        nvidiaDriver?: unknown;
    };
    (pve1.gpus["rtx3060"] as Record<string, unknown>)["guest"] = "container";
    pve1.nvidiaDriver = { version: CONTAINER_DRIVER_VERSION };
    // A container's RAM is never hugepage-backed: the public share needs none reserved.
    const allocations = pve1["allocations"] as Record<string, Record<string, unknown>>;
    (allocations["public"] as Record<string, unknown>)["hugepagesGiB"] = 0;
    const vms = structuredClone(stack.config["ai-dualstack:vms"]) as Record<string, Record<string, unknown>>;
    (vms["public-ai"] as Record<string, unknown>)["kind"] = "container";
    return { nodes, vms };
}
