// From a node's facts to Pulumi.yaml's host facts: the refusals (IOMMU off, a GPU whose IOMMU group
// holds a device it must not take), then the keys of nodes.<node> to set, each with its value. Plain
// functions over HostFacts; tools/init.ts applies the edits to the YAML document.

import { DEBIAN_LXC_TEMPLATES, PveMajor } from "../../config/schema/fields";
import { NodeConfig } from "../../config/schema/host";
import { formatCpuList, HostFacts, PciFunction } from "./read";

/** A node the init must not describe: the reason, and what to do about it. */
export class InitRefusal extends Error {}

/** One key to set under config.nodes.value.<node>, as a path below the node. */
export interface Edit {
    path: (string | number)[];
    value: unknown;
}

export interface Proposal {
    edits: Edit[];
    /** proxmox.majorVersion (a project-wide key), from `pveversion`. */
    majorVersion?: number;
    /** What the init could not decide: printed, never written. */
    notes: string[];
}

// The PCI class codes (PCI Code and ID Assignment spec, as sysfs's `class` shows them): base class
// 0x03 is a display controller, 0x0604 a PCI-to-PCI bridge.
const isDisplay = (f: PciFunction) => f.classCode.startsWith("03");
const isBridge = (f: PciFunction) => f.classCode.startsWith("0604");
/** The slot (domain:bus:device) of a function address "0000:01:00.1". */
const slotOf = (address: string) => address.replace(/\.[0-7]$/, "");

/** The GPUs this program passes through: NVIDIA display functions (vendor 10de). */
export function nvidiaGpus(facts: HostFacts): PciFunction[] {
    return facts.pci
        .filter((f) => isDisplay(f) && f.vendorDeviceId.startsWith("10de:"))
        .sort((a, b) => a.address.localeCompare(b.address));
}

/** A GPU's other functions: the same slot (HDMI audio, USB-C), function 0 left out. */
export function companionFunctions(facts: HostFacts, gpu: PciFunction): PciFunction[] {
    return facts.pci
        .filter((f) => f.address !== gpu.address && slotOf(f.address) === slotOf(gpu.address))
        .sort((a, b) => a.address.localeCompare(b.address));
}

/**
 * Refuses a node that cannot pass its GPUs through: IOMMU off (no groups in /sys/kernel/iommu_groups),
 * a GPU without a group, or a GPU whose group holds anything besides its own functions and PCI
 * bridges (vfio-pci must own every endpoint of a group before a VM may take any of it: the kernel's
 * Documentation/driver-api/vfio.rst, "Groups, Devices, and IOMMUs").
 */
export function checkIommu(facts: HostFacts): void {
    if (facts.iommuGroups === 0) {
        throw new InitRefusal(
            "IOMMU is off on the node: /sys/kernel/iommu_groups is empty. Turn on VT-d (Intel) or AMD-Vi/IOMMU in the BIOS, boot, and run init again (the host bootstrap adds the kernel arguments).",
        );
    }
    for (const gpu of nvidiaGpus(facts)) {
        if (gpu.iommuGroup === undefined) {
            throw new InitRefusal(`GPU ${gpu.address} has no IOMMU group; it cannot be passed through.`);
        }
        const own = new Set([gpu.address, ...companionFunctions(facts, gpu).map((f) => f.address)]);
        const others = facts.pci.filter((f) => f.iommuGroup === gpu.iommuGroup && !own.has(f.address) && !isBridge(f));
        if (others.length > 0) {
            const list = others.map((f) => `${f.address} [${f.vendorDeviceId}]${f.name ? ` ${f.name}` : ""}`);
            throw new InitRefusal(
                `GPU ${gpu.address} shares IOMMU group ${gpu.iommuGroup} with ${list.join(", ")}: passing it through would take those from the host too. Move the card to another slot (one wired to the CPU), or change the BIOS's PCIe settings, and run init again.`,
            );
        }
    }
}

/** The card's name from lspci's line, such as "NVIDIA GeForce RTX 5090"; undefined when unknown. */
export function gpuModel(f: PciFunction): string | undefined {
    const m = /\[(GeForce [^\]]+|RTX [^\]]+|Quadro [^\]]+|Tesla [^\]]+)\]/.exec(f.name ?? "");
    return m ? `NVIDIA ${m[1]}` : undefined;
}

/** The major of `pveversion` ("pve-manager/9.0.10/..." → 9); undefined for another format. */
export function pveMajor(line: string | undefined): number | undefined {
    const m = /^pve-manager\/(\d+)\./.exec(line ?? "");
    return m ? Number(m[1]) : undefined;
}

/**
 * The hybrid CPU's layout: P-cores from /sys/devices/cpu_core/cpus, the E-cores split into the
 * clusters that share an L2 cache; undefined on a CPU that is not hybrid.
 */
export function cpuTopology(facts: HostFacts): { performance: string; efficiencyClusters: string[] } | undefined {
    const { core, atom, l2 } = facts.cpu;
    if (core.length === 0 || atom.length === 0) return undefined;
    const clusters: string[] = [];
    const seen = new Set<number>();
    for (const cpu of atom) {
        if (seen.has(cpu)) continue;
        const shared = (l2.get(cpu) ?? [cpu]).filter((c) => atom.includes(c));
        shared.forEach((c) => seen.add(c));
        clusters.push(formatCpuList(shared));
    }
    return { performance: formatCpuList(core), efficiencyClusters: clusters };
}

/** Whole NVMe disks by their model_serial names: no partitions, no eui/nguid aliases. */
export function nvmeDisks(facts: HostFacts): { id: string; target: string; partitioned: boolean }[] {
    const whole = facts.disks.filter(
        (d) => d.id.startsWith("nvme-") && !/-part\d+$/.test(d.id) && !/^nvme-(eui|nvme)\./.test(d.id),
    );
    return whole
        .map((d) => ({
            ...d,
            partitioned: facts.disks.some((p) => p.id.startsWith(`${d.id}-part`)),
        }))
        .sort((a, b) => a.id.localeCompare(b.id));
}

/** What init proposes for nodes.<node>, given the node's current config (which may be partial). */
export function propose(
    facts: HostFacts,
    current: Partial<NodeConfig> | undefined,
    target: { address: string; user: string; port?: number },
): Proposal {
    checkIommu(facts);
    const edits: Edit[] = [];
    const notes: string[] = [];
    const set = (path: (string | number)[], value: unknown) => edits.push({ path, value });

    if (!current) {
        notes.push(
            'the node is new in Pulumi.yaml: add its allocations, and its gpus, mirrors and bridges (see the notes below and README.md, "Config reference")',
        );
    }
    set(["address"], target.address);
    set(["sshUser"], target.user);
    if (target.port !== undefined && target.port !== 22) set(["sshPort"], target.port);

    // CPU: vendor picks the IOMMU kernel argument; threads are every online CPU.
    const vendor =
        facts.cpu.vendorId === "GenuineIntel" ? "intel" : facts.cpu.vendorId === "AuthenticAMD" ? "amd" : undefined;
    if (vendor) set(["cpu", "vendor"], vendor);
    else notes.push(`cpu.vendor: unknown vendor_id "${facts.cpu.vendorId ?? ""}" in /proc/cpuinfo; set it by hand`);
    // The models are for the record: one already written (perhaps in the user's words) stays.
    if (facts.cpu.model && !current?.cpu?.model) set(["cpu", "model"], facts.cpu.model.replace(/\s+/g, " ").trim());
    if (facts.cpu.online.length > 0) set(["cpu", "threads"], facts.cpu.online.length);
    const topology = cpuTopology(facts);
    if (topology) set(["cpu", "topology"], topology);
    else if (current?.cpu?.topology) {
        notes.push("cpu.topology: the CPU is not hybrid (no /sys/devices/cpu_core and cpu_atom); remove the key");
    }

    // MemTotal in GiB, rounded down, as memory.totalGiB documents it.
    if (facts.memTotalKiB !== undefined) set(["memory", "totalGiB"], Math.floor(facts.memTotalKiB / 1048576));

    // GPUs: each config entry is matched by address, then by vendor:device id; the node's facts
    // replace the ids and the group. environment, vramGiB and memoryBandwidthGBs are left alone.
    const gpus = nvidiaGpus(facts);
    const entries = Object.entries(current?.gpus ?? {});
    const taken = new Set<string>();
    const matchOf = (name: string) => {
        const cfg = current?.gpus?.[name];
        return (
            gpus.find((g) => !taken.has(g.address) && g.address === cfg?.pciAddress) ??
            gpus.find((g) => !taken.has(g.address) && g.vendorDeviceId === cfg?.vendorDeviceId)
        );
    };
    const matched: [string, PciFunction][] = [];
    for (const [name] of entries) {
        const gpu = matchOf(name);
        if (gpu) {
            taken.add(gpu.address);
            matched.push([name, gpu]);
        }
    }
    for (const [name] of entries) {
        if (!matched.some(([n]) => n === name)) {
            notes.push(`gpus.${name}: no such card on the node; remove it or put the card in`);
        }
    }
    for (const [name, gpu] of matched) {
        const model = gpuModel(gpu);
        if (model && !current?.gpus?.[name]?.model) set(["gpus", name, "model"], model);
        set(["gpus", name, "pciAddress"], gpu.address);
        set(["gpus", name, "vendorDeviceId"], gpu.vendorDeviceId);
        if (gpu.subsystemId) set(["gpus", name, "subsystemId"], gpu.subsystemId);
        else notes.push(`gpus.${name}: ${gpu.address} has no subsystem id in sysfs`);
        set(["gpus", name, "iommuGroup"], gpu.iommuGroup);
        set(
            ["gpus", name, "functions"],
            companionFunctions(facts, gpu).map((f) => ({
                pciAddress: f.address,
                vendorDeviceId: f.vendorDeviceId,
                ...(f.subsystemId ? { subsystemId: f.subsystemId } : {}),
            })),
        );
    }
    for (const gpu of gpus.filter((g) => !taken.has(g.address))) {
        notes.push(
            `GPU ${gpu.address} [${gpu.vendorDeviceId}] subsystem ${gpu.subsystemId ?? "none"}, IOMMU group ${gpu.iommuGroup}${gpu.name ? ` (${gpu.name})` : ""} is in no gpus entry: add one (environment, vramGiB and memoryBandwidthGBs are yours to state)`,
        );
    }

    // Mirrors: a mirror whose disks are all on the node keeps them; another takes unpartitioned NVMe
    // disks (a partitioned one holds something already, such as Proxmox itself).
    const disks = nvmeDisks(facts);
    const byId = (id: string) => `/dev/disk/by-id/${id}`;
    const present = new Set(disks.map((d) => byId(d.id)));
    const used = new Set<string>();
    for (const m of Object.values(current?.mirrors ?? {})) {
        if (m.disks && m.disks.every((d) => present.has(d))) m.disks.forEach((d) => used.add(d));
    }
    const free = disks.filter((d) => !d.partitioned && !used.has(byId(d.id)));
    for (const [name, m] of Object.entries(current?.mirrors ?? {})) {
        if (!m.disks || m.disks.every((d) => present.has(d))) continue;
        const want = Math.max(2, m.disks.length);
        if (free.length < want) {
            notes.push(
                `mirrors.${name}: its disks are not on the node and ${free.length} unpartitioned NVMe disk(s) are free; set disks by hand (ls /dev/disk/by-id/)`,
            );
            continue;
        }
        set(
            ["mirrors", name, "disks"],
            free.splice(0, want).map((d) => byId(d.id)),
        );
    }
    for (const d of free) notes.push(`disk ${byId(d.id)} (${d.target}) is unpartitioned and in no mirror`);

    // Proxmox VE's major, from `pveversion`. It is a project-wide key (proxmox.majorVersion).
    const major = pveMajor(facts.pveversion);
    if (major === undefined) notes.push(`pveversion: no pve-manager version found ("${facts.pveversion ?? ""}")`);

    // Bridges: the management bridge must exist; a bridge's uplink must be a physical interface.
    const bridgeNames = facts.bridges.map((b) => b.name);
    const managementBridge = current?.managementBridge ?? "vmbr0";
    const mgmt = facts.bridges.find((b) => b.name === managementBridge);
    if (!mgmt) {
        const candidate = facts.bridges.find((b) => b.ports.some((p) => facts.nics.includes(p)));
        if (candidate) set(["managementBridge"], candidate.name);
        else
            notes.push(
                `managementBridge: "${managementBridge}" is not a bridge on the node (${bridgeNames.join(", ") || "none"})`,
            );
    }
    const uplink = (mgmt ?? facts.bridges.find((b) => b.ports.some((p) => facts.nics.includes(p))))?.ports.find((p) =>
        facts.nics.includes(p),
    );
    for (const [name, b] of Object.entries(current?.bridges ?? {})) {
        if (b.uplink && !facts.nics.includes(b.uplink)) {
            if (uplink) set(["bridges", name, "uplink"], uplink);
            else notes.push(`bridges.${name}.uplink: "${b.uplink}" is not an interface on the node`);
        }
    }

    const template = templateNote(facts, major);
    if (template) notes.push(template);
    return { edits, notes, ...(major !== undefined ? { majorVersion: major } : {}) };
}

/** The Debian standard template the node's index lists for the major, with its checksum, beside the default's. */
export function templateNote(facts: HostFacts, major: number | undefined): string | undefined {
    if (major !== 8 && major !== 9) return undefined;
    const debian = major === 9 ? "debian-13-standard" : "debian-12-standard";
    const listed = facts.templatesAvailable.filter((t) => t.startsWith(debian)).sort();
    const newest = listed[listed.length - 1];
    if (!newest) return `templates: the node's index lists no ${debian} template (run \`pveam update\` on the node)`;
    const entry = facts.templateIndex.find((e) => e.file === newest);
    const builtIn = DEBIAN_LXC_TEMPLATES[major as PveMajor];
    if (builtIn.url.endsWith(`/${newest}`)) {
        return entry?.sha512 && entry.sha512 !== builtIn.sha512
            ? `templates: ${newest}'s sha512 in the node's index differs from the program's default; check the index`
            : `templates: ${newest} (the program's default for Proxmox VE ${major})`;
    }
    return `templates: the node's index lists ${newest}${entry?.sha512 ? ` (sha512 ${entry.sha512})` : ""}; the default is ${builtIn.url.split("/").pop()}. To use it, set containers.<name>.template in Pulumi.<stack>.yaml to { url: https://download.proxmox.com/images/${entry?.location ?? `system/${newest}`}, sha512: ... }`;
}
