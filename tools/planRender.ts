// Renders recorded registrations as the offline plan: a tree with the inputs that matter, a count
// per type, and a Mermaid flowchart grouped as in the playbook's diagram. Plain functions.

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { BackupServer } from "../components/backup/backupServer";
import { EnvironmentBackups } from "../components/backup/environmentBackups";
import { ThroughputGate } from "../components/gate/throughputGate";
import { GpuPassthroughVm } from "../components/gpuVm/gpuPassthroughVm";
import { ProxmoxHost } from "../components/host/proxmoxHost";
import { MonitoringServerSetup } from "../components/monitoring/monitoring";
import { Network } from "../components/network/network";
import { ServiceLxc } from "../components/serviceLxc/serviceLxc";
import { GuestImages } from "../components/storage/guestImages";
import { StorageMirror } from "../components/storage/storageMirror";
import { ComposeWorkload } from "../components/workload/composeWorkload";
import { ModelThroughput } from "../providers/ollama/modelThroughput";
import { RecordedResource } from "../testing/mockRuntime";
import { arr, obj, str, summarize } from "./planSummaries";

type ResourceClass = abstract new (...args: never[]) => pulumi.Resource;
const isA = (r: RecordedResource, cls: ResourceClass) => r.resource instanceof cls;

function children(resources: readonly RecordedResource[]): Map<string | undefined, RecordedResource[]> {
    const byParent = new Map<string | undefined, RecordedResource[]>();
    for (const r of resources) {
        const list = byParent.get(r.parent) ?? [];
        list.push(r);
        byParent.set(r.parent, list);
    }
    return byParent;
}

/** The resource tree, one line per resource with its summary. */
export function renderTree(resources: readonly RecordedResource[]): string[] {
    const byParent = children(resources);
    const known = new Set(resources.map((r) => r.urn));
    const roots = resources.filter((r) => r.parent === undefined || !known.has(r.parent));
    const lines: string[] = [];
    const walk = (r: RecordedResource, prefix: string, last: boolean, depth: number) => {
        const branch = depth === 0 ? "" : last ? "└─ " : "├─ ";
        const summary = summarize(r);
        lines.push(`${prefix}${branch}${r.type} ${r.name}${summary ? `  ${summary}` : ""}`);
        const kids = byParent.get(r.urn) ?? [];
        const nextPrefix = depth === 0 ? "" : prefix + (last ? "   " : "│  ");
        kids.forEach((k, idx) => walk(k, nextPrefix, idx === kids.length - 1, depth + 1));
    };
    roots.forEach((r) => walk(r, "", true, 0));
    return lines;
}

/** Registered resources per type, custom resources only, most frequent first. */
export function countByType(resources: readonly RecordedResource[]): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of resources.filter((x) => x.custom)) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export type DiagramGroup = "host" | "storage" | "network" | "private" | "public";

const GROUP_OF_COMPONENT: readonly [ResourceClass, DiagramGroup | "env"][] = [
    [ProxmoxHost, "host"],
    [StorageMirror, "storage"],
    [GuestImages, "storage"],
    [Network, "network"],
    [GpuPassthroughVm, "env"],
    [ServiceLxc, "env"],
    [ThroughputGate, "env"],
    [ComposeWorkload, "env"],
    [MonitoringServerSetup, "env"],
    [BackupServer, "env"],
    [EnvironmentBackups, "env"],
];

/** The diagram group of a resource: that of its outermost ai-dualstack component. */
export function groupOf(
    r: RecordedResource,
    byUrn: Map<string, RecordedResource>,
    env: "private" | "public",
): DiagramGroup | undefined {
    let group: DiagramGroup | "env" | undefined;
    for (let cur: RecordedResource | undefined = r; cur; cur = cur.parent ? byUrn.get(cur.parent) : undefined) {
        const at = cur;
        group = GROUP_OF_COMPONENT.find(([cls]) => isA(at, cls))?.[1] ?? group;
    }
    return group === "env" ? env : group;
}

/** What a remote command is for, from the suffix its component gave its name. */
function commandRole(name: string): string {
    const roles: [string, string][] = [
        ["-docker-ready", "Docker ready"],
        ["-tune", "pin and start"],
        ["-setup", "data setup"],
        ["-bootstrap", "host bootstrap"],
    ];
    return roles.find(([suffix]) => name.endsWith(suffix))?.[1] ?? "command";
}

/** What the set-up inside a component installs, as a user would name the box. */
const SETUP_LABELS: readonly [ResourceClass, string][] = [
    [MonitoringServerSetup, "monitoring: Prometheus, Alertmanager, Grafana"],
    [BackupServer, "Proxmox Backup Server"],
];

/** The component a resource belongs to (its nearest ai-dualstack ancestor) matched against `classes`. */
function within<T>(
    r: RecordedResource,
    byUrn: Map<string, RecordedResource>,
    table: readonly [ResourceClass, T][],
): T | undefined {
    for (
        let cur = r.parent ? byUrn.get(r.parent) : undefined;
        cur;
        cur = cur.parent ? byUrn.get(cur.parent) : undefined
    ) {
        const at = cur;
        const hit = table.find(([cls]) => isA(at, cls));
        if (hit) return hit[1];
    }
    return undefined;
}

/** What an IP set stands for: the internet (both halves of IPv4, private ranges excepted) or its addresses. */
function ipsetMeaning(i: Record<string, unknown>): string {
    const cidrs = arr(i["cidrs"]).map(obj);
    const plain = cidrs.filter((c) => !c["nomatch"]).map((c) => str(c["name"]));
    const except = cidrs.filter((c) => c["nomatch"]).length;
    if (plain.includes("0.0.0.0/1") && plain.includes("128.0.0.0/1"))
        return `the internet<br/>public IPv4 (${except} private and reserved ranges excepted)`;
    return `addresses ${plain.join(", ")}${except > 0 ? ` (${except} excepted)` : ""}`;
}

/** The short label of a node in the flowchart, by class. */
function mermaidLabel(r: RecordedResource, byUrn: Map<string, RecordedResource>): string {
    const i = r.inputs;
    const setup = isA(r, command.remote.Command) ? within(r, byUrn, SETUP_LABELS) : undefined;
    if (setup) return `${setup}<br/>on ${str(obj(i["connection"])["host"])}`;
    // A backup timer: its own description names the timer and when it runs.
    if (isA(r, command.remote.Command) && within(r, byUrn, [[EnvironmentBackups, true]]) && r.description)
        return (r.description.split(": ")[0] ?? r.description).replace(/"/g, "'");
    const LABELS: readonly [ResourceClass, () => string][] = [
        [
            proxmoxve.VmLegacy,
            () => {
                const pci = arr(i["hostpcis"]).map(obj)[0];
                return `VM ${str(i["vmId"])} ${r.name}${pci ? `<br/>GPU ${str(pci["mapping"])}` : ""}`;
            },
        ],
        [proxmoxve.ContainerLegacy, () => `LXC ${str(i["vmId"])} ${r.name}`],
        [proxmoxve.hardware.mapping.Pci, () => `PCI mapping ${str(i["name"])}`],
        [proxmoxve.node.disk.Zfs, () => `ZFS mirror ${str(i["name"])}`],
        [proxmoxve.storage.Zfspool, () => `storage ${str(i["resourceId"])}`],
        [proxmoxve.network.linux.Bridge, () => `bridge ${str(i["name"])}`],
        [proxmoxve.network.linux.Vlan, () => `VLAN ${str(i["name"])}`],
        [command.remote.Command, () => `${commandRole(r.name)} ${r.name}`],
        [docker.Container, () => `service ${str(i["name"])}<br/>${str(i["image"])}`],
        [proxmoxve.firewall.IpsetLegacy, () => ipsetMeaning(i)],
        [
            proxmoxve.storage.Pbs,
            () => `backup storage ${str(i["resourceId"])}<br/>PBS ${str(i["server"])} datastore ${str(i["datastore"])}`,
        ],
        [
            proxmoxve.backup.Job,
            () => `backup job ${str(i["resourceId"])}<br/>${str(i["schedule"])} → ${str(i["storage"])}`,
        ],
        [proxmoxve.cluster.firewall.security.GroupLegacy, () => `firewall group ${str(i["name"])}`],
        [proxmoxve.Provider, () => `Proxmox API ${r.name}`],
        [ModelThroughput, () => `throughput gate<br/>${str(i["model"])} ≥ ${str(i["minTokensPerSecond"])} tok/s`],
    ];
    const label = LABELS.find(([cls]) => isA(r, cls));
    return label ? label[1]() : `${r.type.split(":").pop() ?? r.type} ${r.name}`;
}

export interface StackRun {
    stack: string;
    environment: "private" | "public";
    resources: readonly RecordedResource[];
}

// Firewall options/rules, snippets, images, volumes and the Docker plumbing would drown the
// picture; the tree lists them. A guest's ipfilter set is its own address, part of the guest.
const HIDDEN_CLASSES: readonly ResourceClass[] = [
    proxmoxve.firewall.OptionsLegacy,
    proxmoxve.firewall.RulesLegacy,
    proxmoxve.FileLegacy,
    proxmoxve.download.File,
    docker.RemoteImage,
    docker.Volume,
    docker.Network,
    docker.Provider,
];

function leftOut(r: RecordedResource, byUrn: Map<string, RecordedResource>): boolean {
    return (
        HIDDEN_CLASSES.some((cls) => isA(r, cls)) ||
        (isA(r, proxmoxve.firewall.IpsetLegacy) &&
            (r.inputs["vmId"] !== undefined || r.inputs["containerId"] !== undefined)) ||
        // A start or wait command is how `up` orders things, not something a user draws.
        (isA(r, command.remote.Command) &&
            commandRole(r.name) === "command" &&
            !within(r, byUrn, SETUP_LABELS) &&
            !within(r, byUrn, [[EnvironmentBackups, true]]))
    );
}

/** The flowchart's edges; one through a resource left out goes on to what that one depends on. */
function edgesOf(
    resources: readonly RecordedResource[],
    byUrn: Map<string, RecordedResource>,
    idOf: (urn: string) => string | undefined,
): string[] {
    const targets = (urn: string, seen: Set<string>): string[] => {
        if (seen.has(urn)) return [];
        seen.add(urn);
        const id = idOf(urn);
        if (id) return [id];
        return (byUrn.get(urn)?.dependencies ?? []).flatMap((d) => targets(d, seen));
    };
    const edges: string[] = [];
    for (const r of resources) {
        const from = idOf(r.urn);
        if (!from) continue;
        const seen = new Set([r.urn]);
        for (const to of new Set(r.dependencies.flatMap((d) => targets(d, seen)))) {
            if (to !== from) edges.push(`  ${from} --> ${to}`);
        }
    }
    return edges;
}

/** One flowchart for one or both stacks: subgraphs host, storage, network, private, public. */
export function renderMermaid(runs: readonly StackRun[]): string[] {
    const lines = ["flowchart TB"];
    const ids = new Map<string, string>();
    const grouped = new Map<DiagramGroup, string[]>();
    const edges: string[] = [];
    runs.forEach((run, runIdx) => {
        const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
        for (const r of run.resources) {
            if (!r.custom || leftOut(r, byUrn)) continue;
            const group = groupOf(r, byUrn, run.environment);
            if (!group) continue;
            const id = `n${runIdx}_${ids.size}`;
            ids.set(`${runIdx}:${r.urn}`, id);
            const list = grouped.get(group) ?? [];
            list.push(`    ${id}["${mermaidLabel(r, byUrn).replace(/"/g, "'")}"]`);
            grouped.set(group, list);
        }
        edges.push(...edgesOf(run.resources, byUrn, (urn) => ids.get(`${runIdx}:${urn}`)));
    });
    const titles: Record<DiagramGroup, string> = {
        host: "Host: IOMMU, vfio, hugepages",
        storage: "Storage: NVMe ZFS mirrors",
        network: "Network: bridges, VLANs, firewall",
        private: "Private environment (LAN/VPN)",
        public: "Public environment (internet, TLS)",
    };
    for (const group of ["host", "storage", "network", "private", "public"] as DiagramGroup[]) {
        const members = grouped.get(group);
        if (!members) continue;
        lines.push(`  subgraph ${group}["${titles[group]}"]`, ...members, "  end");
    }
    lines.push(...edges);
    // The playbook's colours: green private, red public.
    if (grouped.has("private")) lines.push("  style private fill:#D0EECF,stroke:#00663F,stroke-width:2px");
    if (grouped.has("public")) lines.push("  style public fill:#FFE5E0,stroke:#990000,stroke-width:2px");
    return lines;
}
