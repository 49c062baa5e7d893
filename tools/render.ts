// Renders recorded registrations as the offline plan: a tree with the inputs that matter, a count
// per type, and a Mermaid flowchart grouped as in the playbook's diagram. Plain functions.

import { RecordedResource } from "./offline";
import { MODEL_THROUGHPUT_TYPE } from "../providers/ollama/modelThroughput";

type Inputs = Record<string, unknown>;

const str = (v: unknown): string =>
    typeof v === "string" || typeof v === "number" || typeof v === "boolean"
        ? String(v)
        : v === undefined || v === null
          ? "?"
          : JSON.stringify(v);
const obj = (v: unknown): Inputs => (v !== null && typeof v === "object" ? (v as Inputs) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const gib = (mib: unknown): string => `${Number(mib) / 1024} GiB`;

/** Reads the AIDS_* variables from a rendered bootstrap script. */
function scriptVars(script: unknown): Record<string, string> {
    const vars: Record<string, string> = {};
    for (const m of (typeof script === "string" ? script : "").matchAll(/^(AIDS_[A-Z_]+)='([^']*)'$/gm)) {
        vars[m[1] as string] = m[2] as string;
    }
    return vars;
}

/** One line of the inputs that matter for a resource, by type. */
export function summarize(r: RecordedResource): string {
    const i = r.inputs;
    switch (r.type) {
        case "pulumi:providers:proxmoxve":
            // Provider inputs reach the engine as strings.
            return `endpoint ${str(i["endpoint"])}, TLS ${String(i["insecure"]) === "true" ? "NOT verified" : "verified"}, token auth`;
        case "command:remote:Command": {
            const conn = obj(i["connection"]);
            const ssh = `ssh ${str(conn["user"])}@${str(conn["host"])}`;
            const stdin = typeof i["stdin"] === "string" ? i["stdin"] : "";
            const qm = /^qm set (\d+) --affinity (\S+)(?: --hugepages (\d+))?/m.exec(stdin);
            if (qm) {
                const huge = qm[3] === undefined ? "no hugepages" : `hugepages ${qm[3] === "1024" ? "1G" : "2M"}`;
                return `${ssh} | VM ${qm[1]}: pinned ${qm[2]}, ${huge} (root-only, via qm) | starts it once the host check passes`;
            }
            const data = /Installs and configures (PostgreSQL|Redis)/.exec(stdin);
            if (data) {
                const dbs = /^AIDS_PG_DATABASES='([^']*)'$/m.exec(stdin)?.[1];
                const what = dbs === undefined ? "" : `, databases ${dbs || "none"}`;
                return `${ssh} | installs and configures ${data[1]}${what} (script held secret: it carries passwords)`;
            }
            if (stdin.includes("cloud-init status --wait")) {
                const gpu = stdin.includes("nvidia-smi") ? ", the GPU and the NVIDIA runtime" : "";
                return `${ssh} | waits for first boot, then checks Docker${gpu}`;
            }
            const v = scriptVars(stdin);
            if (v["AIDS_GPU_CHECKS"] !== undefined) {
                return `${ssh} | read-only host check on every up: kernel args live, cards ${v["AIDS_GPU_CHECKS"] || "none"}, vfio-pci bound`;
            }
            return [
                ssh,
                `kernel: ${v["AIDS_KERNEL_ARGS"] ?? "?"}`,
                `vfio-pci ids: ${v["AIDS_VFIO_IDS"] || "none"}`,
                `blacklist: ${v["AIDS_BLACKLIST"] || "none"}`,
            ].join(" | ");
        }
        case "proxmoxve:node/disk/zfs:Zfs":
            return `pool ${str(i["name"])} on ${str(i["nodeName"])}: ${str(i["raidlevel"])} of ${arr(i["devices"]).length} disks, ashift ${str(i["ashift"])}, ${str(i["compression"])}`;
        case "proxmoxve:storage/zfspool:Zfspool":
            return `storage ${str(i["resourceId"])} → pool ${str(i["zfsPool"])} (${arr(i["contents"]).join(", ")}) on ${arr(i["nodes"]).join(", ")}`;
        case "proxmoxve:network/linux/vlan:Vlan": {
            const [uplink, tag] = str(i["name"]).split(".");
            return `${str(i["name"])}: VLAN ${tag ?? "?"} on ${uplink ?? "?"} (${str(i["nodeName"])})`;
        }
        case "proxmoxve:network/linux/bridge:Bridge":
            return `${str(i["name"])} on ${str(i["nodeName"])}, ports ${arr(i["ports"]).join(",") || "none (host-internal)"}, no host address`;
        case "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy":
            return `group ${str(i["name"])}: ${arr(i["rules"])
                .map((x) => {
                    const rule = obj(x);
                    return `${str(rule["action"])} ${rule["macro"] ? str(rule["macro"]) : rule["proto"] ? `${str(rule["proto"])}/${str(rule["dport"])}` : "all"} from ${str(rule["source"])}`;
                })
                .join("; ")}`;
        case "proxmoxve:download/file:File":
            return `${str(i["contentType"])} ${str(i["datastoreId"])}:${str(i["fileName"])} ← ${str(i["url"])}${i["checksum"] ? " (sha256 checked)" : ""}`;
        case "proxmoxve:index/fileLegacy:FileLegacy":
            return `${str(i["contentType"])} ${str(i["datastoreId"])}:${str(obj(i["sourceRaw"])["fileName"])}`;
        case "proxmoxve:hardware/mapping/pci:Pci": {
            const map = obj(arr(i["maps"])[0]);
            return `mapping ${str(i["name"])} → ${str(map["node"])} ${str(map["path"])} (${str(map["id"])}, IOMMU group ${str(map["iommuGroup"])})`;
        }
        case "proxmoxve:index/vmLegacy:VmLegacy": {
            const cpu = obj(i["cpu"]);
            const mem = obj(i["memory"]);
            const disk = obj(arr(i["disks"])[0]);
            const nic = obj(arr(i["networkDevices"])[0]);
            const pci = arr(i["hostpcis"]).map(obj);
            return [
                `VMID ${str(i["vmId"])} on ${str(i["nodeName"])}`,
                `${str(cpu["cores"])} cores${cpu["numa"] ? ", NUMA" : ""}`,
                gib(mem["dedicated"]),
                pci.length > 0
                    ? `GPU mapping ${pci.map((p) => `${str(p["mapping"])}${p["pcie"] ? " (pcie)" : ""}`).join(", ")}`
                    : "no GPU",
                `bridge ${str(nic["bridge"])}`,
                `disk ${str(disk["datastoreId"])} ${str(disk["size"])} GiB`,
                `${str(i["machine"])}/${str(i["bios"])}`,
                r.protect ? "protected" : "not protected",
            ].join(" | ");
        }
        case "proxmoxve:index/containerLegacy:ContainerLegacy": {
            const disk = obj(i["disk"]);
            const nic = obj(arr(i["networkInterfaces"])[0]);
            const features = obj(i["features"]);
            return [
                `CTID ${str(i["vmId"])} on ${str(i["nodeName"])}`,
                `${str(obj(i["cpu"])["cores"])} cores`,
                gib(obj(i["memory"])["dedicated"]),
                `bridge ${str(nic["bridge"])}`,
                `disk ${str(disk["datastoreId"])} ${str(disk["size"])} GiB`,
                `${i["unprivileged"] ? "unprivileged" : "PRIVILEGED"}, nesting ${features["nesting"] ? "on" : "off"}`,
                r.protect ? "protected" : "not protected",
            ].join(" | ");
        }
        case "pulumi:providers:docker":
            return `Docker at ${str(i["host"])}`;
        case "docker:index/remoteImage:RemoteImage":
            return `pull ${str(i["name"])}`;
        case "docker:index/network:Network":
            return `network ${str(i["name"])} (${str(i["driver"])})`;
        case "docker:index/volume:Volume":
            return `volume ${str(i["name"])}`;
        case "docker:index/container:Container": {
            const ports = arr(i["ports"])
                .map(obj)
                .map((p) => `${str(p["ip"])}:${str(p["external"])}→${str(p["internal"])}`);
            const health = arr(obj(i["healthcheck"])["tests"]).map(str).join(" ");
            const limits = [
                i["cpus"] !== undefined ? `${str(i["cpus"])} CPUs` : "",
                i["memory"] !== undefined ? gib(i["memory"]) : "",
            ].filter((x) => x !== "");
            return [
                `${str(i["name"])} ← ${str(i["image"])}`,
                ports.length > 0 ? `ports ${ports.join(", ")}` : "no published port",
                ...(i["gpus"] !== undefined ? [`GPU ${str(i["gpus"])}`] : []),
                ...(limits.length > 0 ? [`limit ${limits.join(", ")}`] : []),
                `health: ${health}`,
                `restart ${str(i["restart"])}`,
                ...(r.secretInputs.includes("envs") ? ["env with secrets (hidden)"] : []),
            ].join(" | ");
        }
        case "proxmoxve:firewall/optionsLegacy:OptionsLegacy":
            return `firewall ${i["enabled"] ? "on" : "off"}: inbound ${str(i["inputPolicy"])}, outbound ${str(i["outputPolicy"])}`;
        case "proxmoxve:firewall/rulesLegacy:RulesLegacy":
            return arr(i["rules"])
                .map((x) => {
                    const rule = obj(x);
                    if (rule["securityGroup"]) return `group ${str(rule["securityGroup"])}`;
                    return `${str(rule["action"])} ${str(rule["proto"])}/${str(rule["dport"])} from ${rule["source"] ? str(rule["source"]) : "any"}`;
                })
                .join("; ");
        case MODEL_THROUGHPUT_TYPE: {
            const gpu = obj(i["gpu"]);
            return [
                `${str(i["model"])}${i["digest"] ? `@${str(i["digest"]).slice(0, 19)}` : ""} on ${str(gpu["name"])} via ${str(i["endpoint"])}`,
                `at least ${str(i["requiredTokensPerSecond"])} tokens/s${i["requireGpu"] === false ? "" : ", wholly in VRAM"}`,
                `${str(i["runs"])} runs x ${str(i["numPredict"])} tokens`,
            ].join(" | ");
        }
        default:
            return "";
    }
}

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

const GROUP_OF_COMPONENT: Record<string, DiagramGroup | "env"> = {
    "ai-dualstack:host:ProxmoxHost": "host",
    "ai-dualstack:storage:StorageMirror": "storage",
    "ai-dualstack:storage:GuestImages": "storage",
    "ai-dualstack:network:Network": "network",
    "ai-dualstack:compute:GpuPassthroughVm": "env",
    "ai-dualstack:compute:ServiceLxc": "env",
    "ai-dualstack:gate:ThroughputGate": "env",
};

/** The diagram group of a resource: that of its outermost ai-dualstack component. */
export function groupOf(
    r: RecordedResource,
    byUrn: Map<string, RecordedResource>,
    env: "private" | "public",
): DiagramGroup | undefined {
    let group: DiagramGroup | "env" | undefined;
    for (let cur: RecordedResource | undefined = r; cur; cur = cur.parent ? byUrn.get(cur.parent) : undefined) {
        group = GROUP_OF_COMPONENT[cur.type] ?? group;
    }
    return group === "env" ? env : group;
}

function mermaidLabel(r: RecordedResource): string {
    const i = r.inputs;
    const short = r.type.split(":").pop() ?? r.type;
    switch (r.type) {
        case "proxmoxve:index/vmLegacy:VmLegacy": {
            const pci = arr(i["hostpcis"]).map(obj)[0];
            return `VM ${str(i["vmId"])} ${r.name}${pci ? `<br/>GPU ${str(pci["mapping"])}` : ""}`;
        }
        case "proxmoxve:index/containerLegacy:ContainerLegacy":
            return `LXC ${str(i["vmId"])} ${r.name}`;
        case "proxmoxve:hardware/mapping/pci:Pci":
            return `PCI mapping ${str(i["name"])}`;
        case "proxmoxve:node/disk/zfs:Zfs":
            return `ZFS mirror ${str(i["name"])}`;
        case "proxmoxve:storage/zfspool:Zfspool":
            return `storage ${str(i["resourceId"])}`;
        case "proxmoxve:network/linux/bridge:Bridge":
            return `bridge ${str(i["name"])}`;
        case "proxmoxve:network/linux/vlan:Vlan":
            return `VLAN ${str(i["name"])}`;
        case "command:remote:Command":
            return r.name.endsWith("-docker-ready") ? `Docker ready ${r.name}` : `host bootstrap ${r.name}`;
        case "docker:index/container:Container":
            return `container ${str(i["name"])}<br/>${str(i["image"])}`;
        case "proxmoxve:cluster/firewall/security/groupLegacy:GroupLegacy":
            return `firewall group ${str(i["name"])}`;
        case "pulumi:providers:proxmoxve":
            return `Proxmox API ${r.name}`;
        case MODEL_THROUGHPUT_TYPE:
            return `throughput gate<br/>${str(i["model"])} ≥ ${str(i["requiredTokensPerSecond"])} tok/s`;
        default:
            return `${short} ${r.name}`;
    }
}

export interface StackRun {
    stack: string;
    environment: "private" | "public";
    resources: readonly RecordedResource[];
}

/** One flowchart for one or both stacks: subgraphs host, storage, network, private, public. */
export function renderMermaid(runs: readonly StackRun[]): string[] {
    const lines = ["flowchart TB"];
    const ids = new Map<string, string>();
    const grouped = new Map<DiagramGroup, string[]>();
    const edges: string[] = [];
    // Firewall options/rules, snippets and images would drown the picture; the tree lists them.
    const hidden = new Set([
        "proxmoxve:firewall/optionsLegacy:OptionsLegacy",
        "proxmoxve:firewall/rulesLegacy:RulesLegacy",
        "proxmoxve:index/fileLegacy:FileLegacy",
        "proxmoxve:download/file:File",
        "docker:index/remoteImage:RemoteImage",
        "docker:index/volume:Volume",
    ]);
    runs.forEach((run, runIdx) => {
        const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
        for (const r of run.resources) {
            if (!r.custom || hidden.has(r.type)) continue;
            const group = groupOf(r, byUrn, run.environment);
            if (!group) continue;
            const id = `n${runIdx}_${ids.size}`;
            ids.set(`${runIdx}:${r.urn}`, id);
            const list = grouped.get(group) ?? [];
            list.push(`    ${id}["${mermaidLabel(r).replace(/"/g, "'")}"]`);
            grouped.set(group, list);
        }
        for (const r of run.resources) {
            const from = ids.get(`${runIdx}:${r.urn}`);
            if (!from) continue;
            for (const dep of new Set(r.dependencies)) {
                const to = ids.get(`${runIdx}:${dep}`);
                if (to && to !== from) edges.push(`  ${from} --> ${to}`);
            }
        }
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
