// What the monitoring container watches, resolved from the stack: one scrape target per exporter of
// every guest (this stack's, and the peer stacks' read from their Pulumi.<stack>.yaml) and per node,
// labelled with environment, guest and GPU; and the /32 every stack admits to its exporters.

import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { z } from "zod";
import { parseAddress } from "../lib/ipv4";
import { PROJECT_ROOT } from "./rules/workload";
import type { LxcModel, StackModel } from "./resolve";
import { InboundRule, LxcSchema, MonitoringConfig, ParsedConfig, ServiceConfig, VmSchema, label } from "./schema";

/** The exporters a target can be: each is one Prometheus job. */
export const EXPORTER_JOBS = ["node", "cadvisor", "gpu", "pve"] as const;
export type ExporterJob = (typeof EXPORTER_JOBS)[number];

/** The exporter images the VMs' services run, by repository, and the port each serves on. */
export const EXPORTER_IMAGES: Readonly<Record<string, { job: ExporterJob; port: number }>> = {
    "prom/node-exporter": { job: "node", port: 9100 },
    "gcr.io/cadvisor/cadvisor": { job: "cadvisor", port: 8080 },
    "utkuozdemir/nvidia_gpu_exporter": { job: "gpu", port: 9835 },
};

export const NODE_EXPORTER_PORT = 9100;
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
        if (route)
            return { address: `${route.host}:80`, path: `${route.pathPrefix}/metrics`, via: "trusted-only route" };
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

const PeerGuestsSchema = z.object({
    vms: z.record(label, VmSchema).default({}),
    containers: z.record(label, LxcSchema).default({}),
});

/** A peer stack's guests, from its own Pulumi.<stack>.yaml: the same strict schema as its own run. */
export function readPeerGuests(stack: string, projectDir: string = PROJECT_ROOT): GuestView[] {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config = doc.config ?? {};
    const configured = config["ai-dualstack:environment"];
    const env = typeof configured === "string" && configured !== "" ? configured : stack;
    const parsed = PeerGuestsSchema.parse({
        vms: config["ai-dualstack:vms"],
        containers: config["ai-dualstack:containers"],
    });
    const ipOf = (a: string) => (a === "dhcp" ? undefined : parseAddress(a).ip);
    return [
        ...Object.entries(parsed.vms).map(([name, vm]): GuestView => {
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
        ...Object.entries(parsed.containers).map(([name, ct]): GuestView => {
            const ip = ipOf(ct.network.address);
            return { name, kind: "container", environment: env, ...(ip ? { ip } : {}), services: {} };
        }),
    ];
}

/** This stack's own guests, from the resolved model. */
function ownGuests(model: StackModel): GuestView[] {
    return [
        ...model.vms.map((vm): GuestView => {
            const ip = vm.network.address?.ip;
            return {
                name: vm.name,
                kind: "vm",
                environment: model.environment,
                ...(ip ? { ip } : {}),
                ...(vm.gpu ? { gpu: vm.gpu.name } : {}),
                services: vm.services,
            };
        }),
        ...model.containers.map((ct): GuestView => {
            const ip = ct.network.address?.ip;
            return {
                name: ct.name,
                kind: "container",
                environment: model.environment,
                ...(ip ? { ip } : {}),
                services: {},
            };
        }),
    ];
}

/** node-exporter and prometheus-pve-exporter on each node the monitoring stack touches. */
export function hostTargets(model: StackModel): ScrapeTarget[] {
    return model.nodes.flatMap((node): ScrapeTarget[] => {
        const labels: TargetLabels = { environment: "host", guest: node.name, guest_type: "host" };
        const via = "the node's firewall admits the monitoring host";
        return [
            { job: "node", address: `${node.ssh.address}:${NODE_EXPORTER_PORT}`, metricsPath: "/metrics", labels, via },
            { job: "pve", address: `${node.ssh.address}:${PVE_EXPORTER_PORT}`, metricsPath: "/pve", labels, via },
        ];
    });
}

/** The node-exporter opening each service container gets: port 9100 from the monitoring host alone. */
export function exporterRule(source: string): InboundRule {
    return {
        port: String(NODE_EXPORTER_PORT),
        proto: "tcp",
        source,
        comment: `node-exporter from ${source} (monitoring)`,
    };
}

function withExporterRule(ct: LxcModel, source: string): LxcModel {
    return { ...ct, inbound: [...ct.inbound, exporterRule(source)] };
}

/** The resolved model with monitoring: the containers' exporter rule, and the server where it runs. */
export function withMonitoring(model: StackModel, cfg: ParsedConfig, projectDir: string = PROJECT_ROOT): StackModel {
    const mon = cfg.monitoring;
    if (!mon) return model;
    const source = `${mon.address}/32`;
    const containers = model.containers.map((ct) => withExporterRule(ct, source));
    const unreachable: string[] = [];
    const ownTargets = ownGuests(model).flatMap((g) => guestTargets(g, unreachable));
    const base = { source, nodeExporterVersion: mon.versions.nodeExporter, ownTargets };
    const own = containers.find((ct) => ct.name === mon.container);
    if (!own) return { ...model, containers, monitoring: base };
    const peers = mon.peerStacks
        .flatMap((s) => readPeerGuests(s, projectDir))
        .flatMap((g) => guestTargets(g, unreachable));
    const { container: _c, address: _a, peerStacks: _p, ...settings } = mon;
    const targets = [...(mon.hostExporters ? hostTargets(model) : []), ...ownTargets, ...peers];
    const server = { ...settings, container: own.name, containerAddress: mon.address, targets, unreachable };
    return { ...model, containers, monitoring: { ...base, server } };
}

/** The serviceSecrets the monitoring server uses, each with the config path that names it; none outside its stack. */
export function monitoringSecrets(cfg: ParsedConfig): [string, string][] {
    const mon = cfg.monitoring;
    if (!mon || !cfg.containers[mon.container]) return [];
    const r = mon.alertReceiver;
    const at = "monitoring.alertReceiver";
    const named: [string, string | undefined][] = [
        ["monitoring.grafanaAdminPasswordSecret", mon.grafanaAdminPasswordSecret],
        [`${at}.webhookUrlSecret`, r.webhookUrlSecret],
        [`${at}.email.usernameSecret`, r.email?.usernameSecret],
        [`${at}.email.passwordSecret`, r.email?.passwordSecret],
    ];
    return named.filter((n): n is [string, string] => n[1] !== undefined);
}
