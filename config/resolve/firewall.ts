// The inbound rules each guest gets on top of the environment's baseline: what it publishes, to
// whom (a port's own sources, else the policy's); what its data layer serves, to the guests that use
// it; the rules the config lists by hand; and the monitoring host's exporter rule. Plain functions of
// the parsed config.

import { EnvironmentPolicy } from "../policy";
import { EnvironmentConfig, InboundRule, LxcConfig, VmConfig } from "../schema";
import { ROLE_DEFAULTS } from "../sizing";

/** Sorted, without repeats: numbers by value, strings as written. */
function sortedUnique<T extends string | number>(items: Iterable<T>): T[] {
    return [...new Set(items)].sort((a, b) =>
        typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b)),
    );
}

/** One port some sources may reach, and what answers there. */
interface Opening {
    port: number;
    proto: "tcp" | "udp";
    sources: readonly string[];
    what: string;
}

/** Openings with the same protocol and sources share one rule per source: "3000,3001" from X. */
function rulesOf(openings: readonly Opening[]): InboundRule[] {
    const groups = new Map<string, Opening[]>();
    for (const o of openings) {
        const key = `${o.proto} ${sortedUnique(o.sources).join(",")}`;
        groups.set(key, [...(groups.get(key) ?? []), o]);
    }
    return [...groups.values()].flatMap((group) => {
        const first = group[0] as Opening;
        const ports = sortedUnique(group.map((o) => o.port));
        const whats = [...new Set(group.map((o) => o.what))].join(", ");
        return sortedUnique(first.sources).map((source): InboundRule => ({
            port: ports.join(","),
            proto: first.proto,
            source,
            comment: `${whats} from ${source}`,
        }));
    });
}

type Network = EnvironmentConfig["network"];

/** A VM's published ports, each to its own sources or the policy's, then its listed rules. */
export function vmInbound(vm: VmConfig, policy: EnvironmentPolicy, network: Network): InboundRule[] {
    const openings = Object.entries(vm.services).flatMap(([name, svc]) =>
        svc.ports.map((p) => ({
            port: p.published,
            proto: p.protocol,
            sources: p.from ?? policy.publishedFrom(network),
            what: name,
        })),
    );
    return [...rulesOf(openings), ...vm.firewall.inbound];
}

/** A service container's UIs, its PostgreSQL and Redis to the guests that use them, then its listed rules. */
export function lxcInbound(lxc: LxcConfig, policy: EnvironmentPolicy, network: Network): InboundRule[] {
    const tcp = (port: number, sources: readonly string[], what: string): Opening => ({
        port,
        proto: "tcp",
        sources,
        what,
    });
    const openings = [
        ...ROLE_DEFAULTS[lxc.role].uiPorts.map((p) => tcp(p, policy.publishedFrom(network), lxc.role)),
        ...(lxc.postgres && lxc.postgres.allowFrom.length > 0 ? [tcp(5432, lxc.postgres.allowFrom, "PostgreSQL")] : []),
        ...(lxc.redis && lxc.redis.allowFrom.length > 0 ? [tcp(6379, lxc.redis.allowFrom, "Redis")] : []),
    ];
    return [...rulesOf(openings), ...lxc.firewall.inbound];
}

/** node-exporter's port: in each service container, and on each node. */
export const NODE_EXPORTER_PORT = 9100;

/** The node-exporter opening each service container gets: port 9100 from the monitoring host alone. */
export function exporterRule(source: string): InboundRule {
    return {
        port: String(NODE_EXPORTER_PORT),
        proto: "tcp",
        source,
        comment: `node-exporter from ${source} (monitoring)`,
    };
}
