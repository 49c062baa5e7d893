// The stack's read-only credentials for previews and drift checks (components/host/previewAccess.ts), wired to
// each node's root SSH and the host check this run renders for it.

import { LoadedStack } from "../config/load";
import { accessScope } from "../components/host/access";
import { bootstrapPlan, renderCheckScript, runnerSources } from "../components/host/bootstrap";
import { PreviewAccess } from "../components/host/previewAccess";
import { Hosts } from "./wiring";

/** A lookup that fails loudly: the resolve step guarantees every node the wiring asks for. */
function hostOf({ hosts }: Hosts, node: string) {
    const host = hosts[node];
    if (host === undefined) throw new Error(`internal: no host "${node}" was built`);
    return host;
}

/**
 * With proxmox.previewAccess: the read-only identity of previews and drift checks, its key admitted on each
 * node to the environment's host check alone (the check as this run renders it).
 */
export function buildPreviewAccess(stack: LoadedStack, hosts: Hosts): PreviewAccess | undefined {
    const first = stack.nodes[0];
    if (!stack.proxmox.previewAccess || !first) return undefined;
    return new PreviewAccess(
        `${stack.environment}-preview`,
        {
            environment: stack.environment,
            // Only where the deploy identity already holds what creating users and ACLs on "/" takes.
            createToken: accessScope(stack).monitoringIdentity,
            nodes: stack.nodes.map((node) => {
                const host = hostOf(hosts, node.name);
                const plan = bootstrapPlan(node, stack.environment, stack.proxmox, runnerSources(stack.containers));
                return {
                    name: node.name,
                    connection: host.connection,
                    checkScript: renderCheckScript(plan),
                    dependsOn: [host.bootstrap],
                };
            }),
        },
        { provider: hostOf(hosts, first.name).provider },
    );
}
