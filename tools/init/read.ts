// What `npm run init` reads on a node: one read-only bash script run over SSH (`bash -s`), whose
// output is sections of plain lines, and the parser that turns that output into typed host facts.
// The script only reads files and runs listing commands; it never writes on the node.

/**
 * The read script. Every path is prefixed with $AIDS_ROOT, which is empty on a real node and points
 * at a sandbox root in the tests. Each section starts with a line "### <name>".
 */
export const READ_SCRIPT = `set -u
R="\${AIDS_ROOT:-}"
echo "### iommu"
find "$R/sys/kernel/iommu_groups" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
echo "### pci"
for d in "$R"/sys/bus/pci/devices/*; do
  [ -e "$d/vendor" ] || continue
  g=""
  [ -e "$d/iommu_group" ] && g=$(basename "$(readlink "$d/iommu_group")")
  printf '%s %s %s %s %s %s %s\\n' "$(basename "$d")" "$(cat "$d/vendor")" "$(cat "$d/device")" \\
    "$(cat "$d/subsystem_vendor" 2>/dev/null || echo -)" "$(cat "$d/subsystem_device" 2>/dev/null || echo -)" \\
    "$(cat "$d/class" 2>/dev/null || echo -)" "\${g:--}"
done
echo "### lspci"
lspci -nnD 2>/dev/null || true
echo "### disks"
for f in "$R"/dev/disk/by-id/*; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  t=$(basename "$(readlink "$f")")
  printf '%s %s %s\\n' "$(basename "$f")" "$t" "$(cat "$R/sys/class/block/$t/size" 2>/dev/null || echo -)"
done
echo "### cpuinfo"
grep -m1 '^vendor_id' "$R/proc/cpuinfo" 2>/dev/null || true
grep -m1 '^model name' "$R/proc/cpuinfo" 2>/dev/null || true
echo "### cpus"
printf 'online %s\\n' "$(cat "$R/sys/devices/system/cpu/online" 2>/dev/null)"
printf 'core %s\\n' "$(cat "$R/sys/devices/cpu_core/cpus" 2>/dev/null)"
printf 'atom %s\\n' "$(cat "$R/sys/devices/cpu_atom/cpus" 2>/dev/null)"
for c in "$R"/sys/devices/system/cpu/cpu[0-9]*; do
  [ -e "$c/cache/index2/shared_cpu_list" ] || continue
  printf 'l2 %s %s\\n' "$(basename "$c")" "$(cat "$c/cache/index2/shared_cpu_list")"
done
echo "### meminfo"
grep '^MemTotal' "$R/proc/meminfo" 2>/dev/null || true
echo "### pveversion"
pveversion 2>/dev/null || true
echo "### bridges"
for b in "$R"/sys/class/net/*/bridge; do
  [ -e "$b" ] || continue
  n=$(basename "$(dirname "$b")")
  ports=""
  for p in "$R/sys/class/net/$n/brif"/*; do [ -e "$p" ] && ports="$ports $(basename "$p")"; done
  printf '%s%s\\n' "$n" "$ports"
done
echo "### nics"
for n in "$R"/sys/class/net/*; do [ -e "$n/device" ] && basename "$n"; done
echo "### pveam"
pveam available --section system 2>/dev/null || true
echo "### aplinfo"
cat "$R"/var/lib/pve-manager/apl-info/* 2>/dev/null | grep -E '^(Package|Version|Section|sha512sum|Location):|^$' || true
echo "### hostkey"
cat "$R/etc/ssh/ssh_host_ed25519_key.pub" 2>/dev/null || true
echo "### end"
`;

export interface PciFunction {
    address: string;
    vendorDeviceId: string;
    /** "vvvv:dddd", or undefined where sysfs has none. */
    subsystemId?: string;
    /** The 24-bit class, such as "030000" (VGA) or "040300" (audio). */
    classCode: string;
    /** undefined where the device has no IOMMU group. */
    iommuGroup?: number;
    /** lspci's description, such as "NVIDIA Corporation GB202 [GeForce RTX 5090] [10de:2b85] (rev a1)". */
    name?: string;
}

export interface DiskLink {
    /** The by-id name, such as "nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0X000001". */
    id: string;
    /** The kernel name it points at, such as "nvme0n1". */
    target: string;
    /** Its size in bytes (sysfs's size counts 512-byte sectors); undefined where unknown. */
    bytes?: number;
}

export interface TemplateEntry {
    /** The file name, such as "debian-13-standard_13.1-2_amd64.tar.zst". */
    file: string;
    sha512?: string;
    location?: string;
}

export interface HostFacts {
    iommuGroups: number;
    pci: PciFunction[];
    disks: DiskLink[];
    cpu: {
        vendorId?: string;
        model?: string;
        online: number[];
        /** P-cores on a hybrid Intel CPU (/sys/devices/cpu_core/cpus), else empty. */
        core: number[];
        /** E-cores on a hybrid Intel CPU (/sys/devices/cpu_atom/cpus), else empty. */
        atom: number[];
        /** CPU number → the CPUs that share its L2 cache. */
        l2: Map<number, number[]>;
    };
    memTotalKiB?: number;
    /** The `pveversion` line, such as "pve-manager/9.0.10/deb1ca707ec72a89 (running kernel: 6.14.11-2-pve)". */
    pveversion?: string;
    bridges: { name: string; ports: string[] }[];
    /** Physical interfaces (those with a device in sysfs). */
    nics: string[];
    /** What `pveam available --section system` lists (names only). */
    templatesAvailable: string[];
    /** The template index's entries, with their checksums. */
    templateIndex: TemplateEntry[];
    /** The node's ed25519 host key, "ssh-ed25519 AAAA..." (no comment). */
    hostKey?: string;
}

/** "0-7,16-19" → [0..7, 16..19]; empty for an empty list. */
export function parseCpuList(list: string): number[] {
    const out: number[] = [];
    for (const part of list.trim().split(",")) {
        if (part === "") continue;
        const [a, b] = part.split("-").map((s) => Number(s));
        if (a === undefined || Number.isNaN(a)) throw new Error(`not a CPU list: "${list}"`);
        const end = b === undefined ? a : b;
        if (Number.isNaN(end)) throw new Error(`not a CPU list: "${list}"`);
        for (let i = a; i <= end; i++) out.push(i);
    }
    return out;
}

/** [0,1,2,3,8] → "0-3,8". */
export function formatCpuList(cpus: readonly number[]): string {
    const sorted = [...new Set(cpus)].sort((a, b) => a - b);
    const parts: string[] = [];
    for (let i = 0; i < sorted.length;) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
        parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
        i = j + 1;
    }
    return parts.join(",");
}

const hex4 = (s: string | undefined) => (s ?? "").replace(/^0x/, "").toLowerCase().padStart(4, "0");

/** Splits the script's output into its sections. */
function sections(output: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    let current: string[] | undefined;
    for (const line of output.split("\n")) {
        const m = /^### (\S+)$/.exec(line);
        if (m) {
            current = [];
            out.set(m[1] as string, current);
        } else current?.push(line);
    }
    if (!out.has("end")) throw new Error('the read script\'s output ends early (no "### end" line)');
    return out;
}

/**
 * The template index's entries (pve-manager PVE/APLInfo.pm reads /var/lib/pve-manager/apl-info/*:
 * paragraphs of "Key: value" lines, a blank line between entries); the script keeps Location and sha512sum.
 */
function parseTemplateIndex(lines: readonly string[]): TemplateEntry[] {
    const templateIndex: TemplateEntry[] = [];
    let entry: { location?: string; sha512?: string } = {};
    const flush = () => {
        if (entry.location) {
            const file = entry.location.split("/").pop() ?? "";
            templateIndex.push({ file, location: entry.location, ...(entry.sha512 ? { sha512: entry.sha512 } : {}) });
        }
        entry = {};
    };
    for (const line of lines) {
        if (line.trim() === "") {
            flush();
            continue;
        }
        const m = /^(\w+):\s*(.*)$/.exec(line);
        if (m?.[1] === "Location") entry.location = m[2]?.trim();
        if (m?.[1] === "sha512sum") entry.sha512 = m[2]?.trim();
    }
    flush();
    return templateIndex;
}

/** One PCI function per line of the "pci" section, named from lspci's line where it has one. */
function parsePci(lines: readonly string[], lspci: readonly string[]): PciFunction[] {
    const names = new Map<string, string>();
    for (const line of lspci) {
        const m = /^(\S+)\s+(.*)$/.exec(line);
        if (m) names.set(m[1] as string, m[2] as string);
    }
    return lines.map((line) => {
        const [address = "", vendor, device, subVendor, subDevice, cls, group] = line.split(/\s+/);
        const sub = subVendor && subVendor !== "-" && subDevice && subDevice !== "-";
        return {
            address,
            vendorDeviceId: `${hex4(vendor)}:${hex4(device)}`,
            ...(sub ? { subsystemId: `${hex4(subVendor)}:${hex4(subDevice)}` } : {}),
            classCode: (cls ?? "").replace(/^0x/, "").toLowerCase(),
            ...(group && group !== "-" ? { iommuGroup: Number(group) } : {}),
            ...(names.has(address) ? { name: names.get(address) } : {}),
        };
    });
}

/** Parses the read script's output (READ_SCRIPT) into host facts. */
export function parseReadout(output: string): HostFacts {
    const s = sections(output);
    const lines = (name: string) => (s.get(name) ?? []).map((l) => l.trimEnd()).filter((l) => l !== "");
    const pci = parsePci(lines("pci"), lines("lspci"));
    const disks = lines("disks").map((line) => {
        const [id = "", target = "", sectors] = line.split(/\s+/);
        return { id, target, ...(sectors && /^\d+$/.test(sectors) ? { bytes: Number(sectors) * 512 } : {}) };
    });
    const cpu: HostFacts["cpu"] = { online: [], core: [], atom: [], l2: new Map() };
    for (const line of lines("cpuinfo")) {
        const m = /^(vendor_id|model name)\s*:\s*(.*)$/.exec(line);
        if (m?.[1] === "vendor_id") cpu.vendorId = m[2];
        if (m?.[1] === "model name") cpu.model = m[2];
    }
    for (const line of lines("cpus")) {
        const [key, ...rest] = line.split(/\s+/);
        const value = rest.join(" ");
        if (key === "online") cpu.online = parseCpuList(value);
        if (key === "core") cpu.core = parseCpuList(value);
        if (key === "atom") cpu.atom = parseCpuList(value);
        if (key === "l2") cpu.l2.set(Number((rest[0] ?? "").replace(/^cpu/, "")), parseCpuList(rest[1] ?? ""));
    }
    const mem = /^MemTotal:\s+(\d+)\s*kB/.exec(lines("meminfo")[0] ?? "");
    const pveversion = lines("pveversion")[0];
    const templateIndex = parseTemplateIndex(s.get("aplinfo") ?? []);
    const hostKey = /^(ssh-ed25519 \S+)/.exec(lines("hostkey")[0] ?? "")?.[1];
    return {
        iommuGroups: Number(lines("iommu")[0] ?? 0),
        pci,
        disks,
        cpu,
        ...(mem ? { memTotalKiB: Number(mem[1]) } : {}),
        ...(pveversion ? { pveversion } : {}),
        bridges: lines("bridges").map((l) => {
            const [name = "", ...ports] = l.split(/\s+/);
            return { name, ports };
        }),
        nics: lines("nics"),
        // `pveam available` prints "system          debian-13-standard_13.1-2_amd64.tar.zst".
        templatesAvailable: lines("pveam").map((l) => l.split(/\s+/).pop() ?? ""),
        templateIndex,
        ...(hostKey ? { hostKey } : {}),
    };
}
