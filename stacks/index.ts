// The program: the environments' policies, the host probe, and the builder for the loaded stack.

import { bootstrapPlan, renderCheckScript } from "../components/host/bootstrap";
import { probeHost } from "../components/host/probe";
import { LoadedStack, loadStackConfig } from "../config/load";
import { EnvironmentPolicies } from "../config/policy";
import { buildEnvironment, HostStatuses } from "./build";
import { EnvironmentOutputs } from "./outputs";
import { PRIVATE_POLICY } from "./private";
import { PUBLIC_POLICY } from "./public";

export const POLICIES: EnvironmentPolicies = { private: PRIVATE_POLICY, public: PUBLIC_POLICY };

export type { HostStatuses } from "./build";

export function buildStack(stack: LoadedStack, statuses: HostStatuses): EnvironmentOutputs {
    return buildEnvironment(stack, statuses);
}

/** Runs the read-only host check on every node the environment touches, before anything is registered. */
export async function probeStack(stack: LoadedStack): Promise<HostStatuses> {
    const entries = await Promise.all(
        stack.nodes.map(async (node) => {
            const script = renderCheckScript(bootstrapPlan(node, stack.environment, stack.proxmox));
            const privateKey = stack.secrets.sshPrivateKeyForProbe();
            return [node.name, await probeHost({ node: node.name, ssh: node.ssh, privateKey, script })] as const;
        }),
    );
    return Object.fromEntries(entries);
}

/** The whole program: load and check the config, probe the hosts, build. index.ts runs it. */
export async function runProgram(
    probe: (stack: LoadedStack) => Promise<HostStatuses> = probeStack,
): Promise<EnvironmentOutputs> {
    const stack = loadStackConfig(POLICIES);
    return buildStack(stack, await probe(stack));
}
