// What the monitoring container watches, resolved with the stack: one scrape target per exporter of
// every guest (this stack's, and the peer stacks' loaded once by config/load.ts) and per node,
// labelled with environment, guest and GPU; and the /32 every stack admits to its exporters.

import { parseAddress } from "../../lib/ipv4";
import { EnvironmentName, MonitoringConfig, ParsedConfig, ServiceConfig, trustedEntrypointPort } from "../schema";
import type { LxcModel } from "./container";
import { NODE_EXPORTER_PORT } from "./firewall";
import type { NodeModel } from "./node";
import type { VmModel } from "./vm";

/** The exporters a target can be: each is one Prometheus job. */
export const EXPORTER_JOBS = ["node", "cadvisor", "gpu", "pve"] as const;
export type ExporterJob = (typeof EXPORTER_JOBS)[number];

/** The exporter images the VMs' services run, by repository, and the port each serves on. */
export const EXPORTER_IMAGES: Readonly<Record<string, { job: ExporterJob; port: number }>> = {
    "prom/node-exporter": { job: "node", port: 9100 },
    "gcr.io/cadvisor/cadvisor": { job: "cadvisor", port: 8080 },
    "utkuozdemir/nvidia_gpu_exporter": { job: "gpu", port: 9835 },
};

export { NODE_EXPORTER_PORT } from "./firewall";
export const PVE_EXPORTER_PORT = 9221;

export interface TargetLabels {
    readonly environment: string;
    readonly guest: string;
    /** vm, container or host ("kind" is the backup metrics' own label). */
    readonly guest_type: "vm" | "container" | "host";
    readonly gpu?: string;
}

export interface ScrapeTarget {
    readonly job: ExporterJob;
    /** host:port Prometheus connects to. */
    readonly address: string;
    readonly metricsPath: string;
    readonly labels: TargetLabels;
    /** How the monitoring host reaches it, for the plan and the docs. */
    readonly via: string;
}

/** The stack that runs Prometheus: its settings and everything it scrapes. */
export interface MonitoringServer extends Omit<MonitoringConfig, "container" | "address" | "peerStacks"> {
    readonly container: string;
    readonly containerAddress: string;
    readonly targets: readonly ScrapeTarget[];
    /** Exporters that run but that the monitoring host cannot reach (no published port, no route). */
    readonly unreachable: readonly string[];
}

export interface MonitoringModel {
    /** The monitoring host's address as a /32: the one source every stack admits to its exporters. */
    readonly source: string;
    /** The node-exporter version every service container gets. */
    readonly nodeExporterVersion: string;
    /** This stack's own guests' targets, as the monitoring host scrapes them. */
    readonly ownTargets: readonly ScrapeTarget[];
    /** Present in the stack whose containers hold the monitoring container. */
    readonly server?: MonitoringServer;
}

/** A guest as the scrape config sees it: where it is, what it runs. */
interface GuestView {
    readonly name: string;
    readonly kind: "vm" | "container";
    readonly environment: string;
    readonly ip?: string;
    readonly gpu?: string;
    readonly services: Readonly<Record<string, ServiceConfig>>;
}

/** How the monitoring host reaches one exporter service of a VM: a published port, or a trusted-only plain route. */
function reach(
    vm: GuestView,
    svcName: string,
    port: number,
): { address: string; path: string; via: string } | undefined {
    const svc = vm.services[svcName] as ServiceConfig;
    const published = svc.ports.find((p) => p.target === port);
    if (published) return { address: `${vm.ip}:${published.published}`, path: "/metrics", via: "published port" };
    for (const proxy of Object.values(vm.services)) {
        const route = proxy.proxy?.routes.find((r) => r.service === svcName && r.trustedOnly && !r.tls && r.pathPrefix);
        // Plain routes answer on the proxy's trusted entrypoint alone, not on the internet-facing 80.
        const trusted = trustedEntrypointPort(proxy);
        if (route && trusted !== undefined)
            return {
                address: `${route.host}:${trusted}`,
                path: `${route.pathPrefix}/metrics`,
                via: "trusted-only route",
            };
    }
    return undefined;
}

/** Every exporter target of one guest; the names of the exporters it cannot reach go to `unreachable`. */
export function guestTargets(g: GuestView, unreachable: string[]): ScrapeTarget[] {
    const labels: TargetLabels = {
        environment: g.environment,
        guest: g.name,
        guest_type: g.kind,
        ...(g.gpu ? { gpu: g.gpu } : {}),
    };
    if (g.ip === undefined) {
        unreachable.push(`${g.name}: no static address`);
        return [];
    }
    if (g.kind === "container") {
        const address = `${g.ip}:${NODE_EXPORTER_PORT}`;
        return [{ job: "node", address, metricsPath: "/metrics", labels, via: "node-exporter in the container" }];
    }
    const targets: ScrapeTarget[] = [];
    for (const [svcName, svc] of Object.entries(g.services).sort(([a], [b]) => a.localeCompare(b))) {
        const exporter = EXPORTER_IMAGES[svc.image.split(":")[0] ?? ""];
        if (!exporter) continue;
        const found = reach(g, svcName, exporter.port);
        if (!found) unreachable.push(`${g.name}/${svcName}: no published port or trusted-only route`);
        else
            targets.push({
                job: exporter.job,
                address: found.address,
                metricsPath: found.path,
                labels,
                via: found.via,
            });
    }
    return targets;
}

/**
 * A peer stack (monitoring.peerStacks) as the monitoring server sees it: its config from its own
 * Pulumi.<stack>.yaml, through the same loader and schema as this stack's (config/load.ts).
 */
export interface PeerStack {
    readonly stack: string;
    readonly environment: EnvironmentName;
    readonly config: ParsedConfig;
}

/** A peer stack's guests, from its parsed config. */
export function peerGuests(peer: PeerStack): GuestView[] {
    const ipOf = (a: string) => (a === "dhcp" ? undefined : parseAddress(a).ip);
    const env = peer.environment;
    return [
        ...Object.entries(peer.config.vms).map(([name, vm]): GuestView => {
            const ip = ipOf(vm.network.address);
            return {
                name,
                kind: "vm",
                environment: env,
                ...(ip ? { ip } : {}),
                ...(vm.gpu ? { gpu: vm.gpu } : {}),
                services: vm.services,
            };
        }),
        ...Object.entries(peer.config.containers).map(([name, ct]): GuestView => {
            const ip = ipOf(ct.network.address);
            return { name, kind: "container", environment: env, ...(ip ? { ip } : {}), services: {} };
        }),
    ];
}

/** This stack's own guests, as resolved. */
export interface OwnGuests {
    readonly environment: EnvironmentName;
    readonly vms: readonly VmModel[];
    readonly containers: readonly LxcModel[];
    readonly nodes: readonly NodeModel[];
}

function ownGuests(own: OwnGuests): GuestView[] {
    // What a VM and a container show alike; a VM adds its GPU, and only a VM runs services.
    const seen = (guest: VmModel | LxcModel, kind: GuestView["kind"]) => {
        const ip = guest.network.address?.ip;
        return { name: guest.name, kind, environment: own.environment, ...(ip ? { ip } : {}) };
    };
    return [
        ...own.vms.map((vm): GuestView => ({
            ...seen(vm, "vm"),
            ...(vm.gpu ? { gpu: vm.gpu.name } : {}),
            services: vm.services,
        })),
        ...own.containers.map((ct): GuestView => ({ ...seen(ct, "container"), services: {} })),
    ];
}

/** node-exporter and prometheus-pve-exporter on each node the monitoring stack touches. */
export function hostTargets(nodes: readonly NodeModel[]): ScrapeTarget[] {
    return nodes.flatMap((node): ScrapeTarget[] => {
        const labels: TargetLabels = { environment: "host", guest: node.name, guest_type: "host" };
        const via = "the node's firewall admits the monitoring host";
        return [
            { job: "node", address: `${node.ssh.address}:${NODE_EXPORTER_PORT}`, metricsPath: "/metrics", labels, via },
            { job: "pve", address: `${node.ssh.address}:${PVE_EXPORTER_PORT}`, metricsPath: "/pve", labels, via },
        ];
    });
}

/** The monitoring host's address as a /32, which every service container admits to its node-exporter. */
export function monitoringSource(mon: MonitoringConfig): string {
    return `${mon.address}/32`;
}

/**
 * The stack's monitoring: the source every stack admits, its own guests' targets, and in the stack
 * whose containers hold the monitoring container, the server with every target (the peers' too).
 */
export function resolveMonitoring(
    cfg: ParsedConfig,
    own: OwnGuests,
    peers: readonly PeerStack[],
): MonitoringModel | undefined {
    const mon = cfg.monitoring;
    if (!mon) return undefined;
    const unreachable: string[] = [];
    const ownTargets = ownGuests(own).flatMap((g) => guestTargets(g, unreachable));
    const base = { source: monitoringSource(mon), nodeExporterVersion: mon.versions.nodeExporter, ownTargets };
    if (!own.containers.some((ct) => ct.name === mon.container)) return base;
    const peerTargets = peers.flatMap(peerGuests).flatMap((g) => guestTargets(g, unreachable));
    const { container, address, peerStacks: _p, ...settings } = mon;
    const targets = [...(mon.hostExporters ? hostTargets(own.nodes) : []), ...ownTargets, ...peerTargets];
    return { ...base, server: { ...settings, container, containerAddress: address, targets, unreachable } };
}
