// Wires monitoring into an environment: node-exporter in each of its service containers; and in the
// stack that holds the monitoring container, the server set-up and the nodes' exporters with their
// read-only token. Wiring only: the targets were resolved in config/resolve/monitoring.ts.

import * as pulumi from "@pulumi/pulumi";
import { ScrapeTarget } from "../config/resolve/monitoring";
import { LoadedStack } from "../config/load";
import { ALERT_RULES } from "../components/monitoring/alerts";
import { HostMonitoring, MonitoringServerSetup, NodeExporterSetup } from "../components/monitoring/monitoring";
import { monitoringSecrets } from "./secrets";
import { Hosts } from "./wiring";
import { MonitoringOutput } from "./outputs";

/** One target as the plan and the outputs print it. */
export function targetLine(t: ScrapeTarget): string {
    const gpu = t.labels.gpu ? `, gpu ${t.labels.gpu}` : "";
    return `${t.job} ${t.labels.guest} (${t.labels.environment}${gpu}): http://${t.address}${t.metricsPath} via ${t.via}`;
}

/**
 * `starts`: each container's start, by name; the set-ups wait for it, and for the data set-ups
 * (`after`), since two apt runs in one container would fight over its lock.
 */
export function buildMonitoring(
    stack: LoadedStack,
    { hosts }: Hosts,
    starts: Readonly<Record<string, pulumi.Resource>>,
    after: readonly pulumi.Resource[],
): MonitoringOutput | undefined {
    const mon = stack.monitoring;
    if (!mon) return undefined;
    const key = stack.secrets.guestSshPrivateKey;
    const exporters: Record<string, pulumi.Resource> = {};
    for (const lxc of stack.containers) {
        const start = starts[lxc.name];
        if (!lxc.network.address || !start) continue;
        exporters[lxc.name] = new NodeExporterSetup(`${lxc.name}-node-exporter`, {
            address: lxc.network.address.ip,
            version: mon.nodeExporterVersion,
            scrapedBy: mon.source,
            sshPrivateKey: key,
            dependsOn: [start, ...after],
        });
    }
    const server = mon.server;
    const own = { scrapedBy: mon.source, targets: mon.ownTargets.map(targetLine) };
    if (!server) return own;
    const start = starts[server.container];
    const setup = new MonitoringServerSetup(`${server.container}-monitoring`, {
        server,
        sshPrivateKey: key,
        secrets: monitoringSecrets(stack, server),
        dependsOn: [start, exporters[server.container]].filter((r): r is pulumi.Resource => r !== undefined),
    });
    const first = stack.nodes[0];
    if (server.hostExporters && first) {
        new HostMonitoring(
            `${stack.environment}-monitoring-host`,
            {
                server,
                nodes: stack.nodes.map((node) => {
                    const host = hosts[node.name];
                    if (!host) throw new Error(`internal: no host "${node.name}" was built`);
                    return { name: node.name, connection: host.connection, dependsOn: [host.bootstrap] };
                }),
            },
            { provider: hosts[first.name]?.provider },
        );
    }
    return {
        ...own,
        server: {
            container: server.container,
            description: setup.description,
            urls: setup.urls,
            alertRules: ALERT_RULES.length,
            targets: server.targets.map(targetLine),
            unreachable: [...server.unreachable],
        },
    };
}
