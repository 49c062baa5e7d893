// From a node's facts to Pulumi.yaml's host facts: the refusals (IOMMU off, a GPU whose IOMMU group
// holds a device it must not take), then the keys of nodes.<node> to set, each with its value. Plain
// functions over HostFacts; tools/init.ts applies the edits to the YAML document.

import { DEBIAN_LXC_TEMPLATES } from "../../config/schema/fields";
import { NodeConfig } from "../../config/schema/host";
import { DiskLink, formatCpuList, HostFacts, PciFunction } from "./read";

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
export function nvmeDisks(facts: HostFacts): (DiskLink & { partitioned: boolean })[] {
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

/** Where the parts of a proposal put their keys and their notes. */
interface Out {
    set(path: (string | number)[], value: unknown): void;
    note(text: string): void;
}

type Current = Partial<NodeConfig> | undefined;

/** CPU: the vendor picks the IOMMU kernel argument; threads are every online CPU. */
function proposeCpu(facts: HostFacts, current: Current, o: Out): void {
    const id = facts.cpu.vendorId;
    const vendor = id === "GenuineIntel" ? "intel" : id === "AuthenticAMD" ? "amd" : undefined;
    if (vendor) o.set(["cpu", "vendor"], vendor);
    else o.note(`cpu.vendor: unknown vendor_id "${id ?? ""}" in /proc/cpuinfo; set it by hand`);
    // The models are for the record: one already written (perhaps in the user's words) stays.
    if (facts.cpu.model && !current?.cpu?.model) o.set(["cpu", "model"], facts.cpu.model.replace(/\s+/g, " ").trim());
    if (facts.cpu.online.length > 0) o.set(["cpu", "threads"], facts.cpu.online.length);
    const topology = cpuTopology(facts);
    if (topology) o.set(["cpu", "topology"], topology);
    else if (current?.cpu?.topology) {
        o.note("cpu.topology: the CPU is not hybrid (no /sys/devices/cpu_core and cpu_atom); remove the key");
    }
}

/** Each config entry matched to a card on the node: by address, then by vendor:device id. */
function matchGpus(gpus: PciFunction[], current: Current): [string, PciFunction][] {
    const taken = new Set<string>();
    const matched: [string, PciFunction][] = [];
    for (const [name, cfg] of Object.entries(current?.gpus ?? {})) {
        const free = gpus.filter((g) => !taken.has(g.address));
        const gpu =
            free.find((g) => g.address === cfg.pciAddress) ?? free.find((g) => g.vendorDeviceId === cfg.vendorDeviceId);
        if (gpu) {
            taken.add(gpu.address);
            matched.push([name, gpu]);
        }
    }
    return matched;
}

/** GPUs: the node's ids, group and functions replace the config's; environment, vramGiB and memoryBandwidthGBs stay. */
function proposeGpus(facts: HostFacts, current: Current, o: Out): void {
    const gpus = nvidiaGpus(facts);
    const matched = matchGpus(gpus, current);
    for (const name of Object.keys(current?.gpus ?? {})) {
        if (!matched.some(([n]) => n === name))
            o.note(`gpus.${name}: no such card on the node; remove it or put the card in`);
    }
    for (const [name, gpu] of matched) {
        const model = gpuModel(gpu);
        if (model && !current?.gpus?.[name]?.model) o.set(["gpus", name, "model"], model);
        o.set(["gpus", name, "pciAddress"], gpu.address);
        o.set(["gpus", name, "vendorDeviceId"], gpu.vendorDeviceId);
        if (gpu.subsystemId) o.set(["gpus", name, "subsystemId"], gpu.subsystemId);
        else o.note(`gpus.${name}: ${gpu.address} has no subsystem id in sysfs`);
        o.set(["gpus", name, "iommuGroup"], gpu.iommuGroup);
        o.set(
            ["gpus", name, "functions"],
            companionFunctions(facts, gpu).map((f) => ({
                pciAddress: f.address,
                vendorDeviceId: f.vendorDeviceId,
                ...(f.subsystemId ? { subsystemId: f.subsystemId } : {}),
            })),
        );
    }
    for (const gpu of gpus.filter((g) => !matched.some(([, m]) => m.address === g.address))) {
        o.note(
            `GPU ${gpu.address} [${gpu.vendorDeviceId}] subsystem ${gpu.subsystemId ?? "none"}, IOMMU group ${gpu.iommuGroup}${gpu.name ? ` (${gpu.name})` : ""} is in no gpus entry: add one (environment, vramGiB and memoryBandwidthGBs are yours to state)`,
        );
    }
}

/**
 * Mirrors: a mirror whose disks are all on the node keeps them; another takes unpartitioned NVMe
 * disks (a partitioned one holds something already, such as Proxmox itself).
 */
function proposeMirrors(facts: HostFacts, current: Current, o: Out): void {
    const disks = nvmeDisks(facts);
    const byId = (id: string) => `/dev/disk/by-id/${id}`;
    const present = new Set(disks.map((d) => byId(d.id)));
    const mirrors = Object.entries(current?.mirrors ?? {});
    const kept = new Set(mirrors.flatMap(([, m]) => (m.disks?.every((d) => present.has(d)) ? m.disks : [])));
    const free = disks.filter((d) => !d.partitioned && !kept.has(byId(d.id)));
    for (const [name, m] of mirrors) {
        if (!m.disks || m.disks.every((d) => present.has(d))) continue;
        const want = Math.max(2, m.disks.length);
        if (free.length < want) {
            o.note(
                `mirrors.${name}: its disks are not on the node and ${free.length} unpartitioned NVMe disk(s) are free; set disks by hand (ls /dev/disk/by-id/)`,
            );
            continue;
        }
        const chosen = free.splice(0, want);
        o.set(
            ["mirrors", name, "disks"],
            chosen.map((d) => byId(d.id)),
        );
        sizeNote(name, chosen, o);
    }
    for (const d of free) o.note(`disk ${byId(d.id)} (${d.target}) is unpartitioned and in no mirror`);
}

/** sizeGiB is the usable capacity, less ZFS's own overhead: init names the smallest disk, the user decides. */
function sizeNote(name: string, chosen: { bytes?: number }[], o: Out): void {
    const sizes = chosen.map((d) => d.bytes);
    if (sizes.some((b) => b === undefined)) return;
    const smallest = Math.floor(Math.min(...(sizes as number[])) / 2 ** 30);
    o.note(
        `mirrors.${name}.sizeGiB: the smallest of its disks holds ${smallest} GiB; set sizeGiB a little below it (ZFS keeps some for itself)`,
    );
}

/** Bridges: the management bridge must exist; a bridge's uplink must be a physical interface. */
function proposeBridges(facts: HostFacts, current: Current, o: Out): void {
    const managementBridge = current?.managementBridge ?? "vmbr0";
    const withUplink = facts.bridges.find((b) => b.ports.some((p) => facts.nics.includes(p)));
    const mgmt = facts.bridges.find((b) => b.name === managementBridge);
    if (!mgmt && withUplink) o.set(["managementBridge"], withUplink.name);
    else if (!mgmt) {
        const names = facts.bridges.map((b) => b.name).join(", ") || "none";
        o.note(`managementBridge: "${managementBridge}" is not a bridge on the node (${names})`);
    }
    const uplink = (mgmt ?? withUplink)?.ports.find((p) => facts.nics.includes(p));
    for (const [name, b] of Object.entries(current?.bridges ?? {})) {
        if (!b.uplink || facts.nics.includes(b.uplink)) continue;
        if (uplink) o.set(["bridges", name, "uplink"], uplink);
        else o.note(`bridges.${name}.uplink: "${b.uplink}" is not an interface on the node`);
    }
}

/** What init proposes for nodes.<node>, given the node's current config (which may be partial). */
export function propose(
    facts: HostFacts,
    current: Current,
    target: { address: string; user: string; port?: number },
): Proposal {
    checkIommu(facts);
    const edits: Edit[] = [];
    const notes: string[] = [];
    const o: Out = { set: (path, value) => edits.push({ path, value }), note: (text) => notes.push(text) };
    if (!current) {
        o.note(
            'the node is new in Pulumi.yaml: add its allocations, and its gpus, mirrors and bridges (see the notes below and README.md, "Config reference")',
        );
    }
    o.set(["address"], target.address);
    o.set(["sshUser"], target.user);
    if (target.port !== undefined && target.port !== 22) o.set(["sshPort"], target.port);
    // The key ssh just checked against the known_hosts: pinned, the host check and the provider use it.
    if (facts.hostKey) o.set(["sshHostKey"], facts.hostKey);
    proposeCpu(facts, current, o);
    // MemTotal in GiB, rounded down, as memory.totalGiB documents it.
    if (facts.memTotalKiB !== undefined) o.set(["memory", "totalGiB"], Math.floor(facts.memTotalKiB / 1048576));
    proposeGpus(facts, current, o);
    proposeMirrors(facts, current, o);
    proposeBridges(facts, current, o);
    // Proxmox VE's major, from `pveversion`: a project-wide key (proxmox.majorVersion).
    const major = pveMajor(facts.pveversion);
    if (major === undefined) o.note(`pveversion: no pve-manager version found ("${facts.pveversion ?? ""}")`);
    const template = templateNote(facts, major);
    if (template) o.note(template);
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
    const builtIn = DEBIAN_LXC_TEMPLATES[major];
    if (builtIn.url.endsWith(`/${newest}`)) {
        return entry?.sha512 && entry.sha512 !== builtIn.sha512
            ? `templates: ${newest}'s sha512 in the node's index differs from the program's default; check the index`
            : `templates: ${newest} (the program's default for Proxmox VE ${major})`;
    }
    return `templates: the node's index lists ${newest}${entry?.sha512 ? ` (sha512 ${entry.sha512})` : ""}; the default is ${builtIn.url.split("/").pop()}. To use it, set containers.<name>.template in Pulumi.<stack>.yaml to { url: https://download.proxmox.com/images/${entry?.location ?? `system/${newest}`}, sha512: ... }`;
}
