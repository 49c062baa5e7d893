// The program: the environments' policies, the host check, and the builder for the loaded stack.

import { bootstrapPlan, renderCheckScript, runnerSources } from "../components/host/bootstrap";
import { checkHost } from "../components/host/check";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, LoadedStack, NAMESPACE, loadStackConfig, readRawConfig } from "../config/load";
import { EnvironmentPolicies } from "../config/policy";
import { buildEnvironment, HostStatuses } from "./build";
import { EnvironmentOutputs } from "./outputs";
import { PRIVATE_POLICY } from "./private";
import { PUBLIC_POLICY } from "./public";

export const POLICIES: EnvironmentPolicies = { private: PRIVATE_POLICY, public: PUBLIC_POLICY };

export type { HostStatuses } from "./build";

/** Runs the read-only host check on every node the environment touches, before anything is registered. */
export async function checkHosts(stack: LoadedStack): Promise<HostStatuses> {
    const entries = await Promise.all(
        stack.nodes.map(async (node) => {
            const plan = bootstrapPlan(node, stack.environment, stack.proxmox, runnerSources(stack.containers));
            const script = renderCheckScript(plan);
            const privateKey = stack.secrets.sshPrivateKeyForCheck();
            const memory = node.memoryFit;
            const target = { node: node.name, ssh: node.ssh, privateKey, script, ...(memory ? { memory } : {}) };
            return [node.name, await checkHost(target)] as const;
        }),
    );
    return Object.fromEntries(entries);
}

/** How the program runs: against real hosts (the default), or as the offline plan. */
export interface ProgramOptions {
    /** Answers the host check; the offline plan passes a stand-in. */
    readonly checkHosts?: (stack: LoadedStack) => Promise<HostStatuses>;
    /** The offline plan: nothing will be deployed, so example values are only warned about. */
    readonly offline?: boolean;
    /** Where Pulumi.yaml and the stack files are (the offline plan's --project-dir); this repository by default. */
    readonly projectDir?: string;
}

/**
 * The repository's example values: a warning in the offline plan and in a preview, a refusal in an
 * `up`, which would deploy keys that open nothing and a domain that points nowhere.
 */
export function checkPlaceholders(stack: LoadedStack, deploying: boolean): void {
    if (stack.placeholders.length === 0) return;
    if (deploying) throw new ConfigError(stack.stack, stack.placeholders);
    for (const p of stack.placeholders)
        void pulumi.log.warn(`${NAMESPACE}:${p.path}: ${p.message} (\`pulumi up\` refuses it)`);
}

/** A GPU container where the environment's policy advises a VM: a warning in every plan and preview. */
export function warnGpuContainers(stack: LoadedStack): void {
    const warning = stack.policy.gpuContainerWarning;
    if (warning === undefined) return;
    for (const vm of stack.vms.filter((v) => v.kind === "container")) {
        void pulumi.log.warn(`${NAMESPACE}:vms.${vm.name}.kind: ${warning}`);
    }
}

/** The whole program: load and check the config, check the hosts, build. index.ts runs it. */
export async function runProgram(options: ProgramOptions = {}): Promise<EnvironmentOutputs> {
    const stack = loadStackConfig(POLICIES, readRawConfig(), options.projectDir);
    checkPlaceholders(stack, !options.offline && !pulumi.runtime.isDryRun());
    warnGpuContainers(stack);
    return buildEnvironment(stack, await (options.checkHosts ?? checkHosts)(stack));
}
