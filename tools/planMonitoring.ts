// The offline plan's monitoring lines: what the monitoring host scrapes in this stack, and in the
// stack that runs it, the set-up, its URLs, every target and the alert count.

import type { Unwrap } from "@pulumi/pulumi";
import type { MonitoringOutput } from "../stacks/outputs";

export function renderMonitoring(mon: Unwrap<MonitoringOutput> | undefined): string[] {
    if (!mon) return ["  monitoring: not configured (Pulumi.yaml, monitoring)"];
    const lines = [`  monitoring: exporters admit ${mon.scrapedBy} only`];
    const server = mon.server;
    if (!server) {
        lines.push(`    scraped here (${mon.targets.length} targets):`, ...mon.targets.map((t) => `      ${t}`));
        return lines;
    }
    lines.push(
        `    server in ${server.container}: ${server.description}`,
        `    URLs: ${server.urls.join(" ")} (Alertmanager on the container's loopback)`,
        `    ${server.alertRules} alert rules; targets (${server.targets.length}):`,
        ...server.targets.map((t) => `      ${t}`),
        ...server.unreachable.map((u) => `    not scraped: ${u}`),
    );
    return lines;
}
