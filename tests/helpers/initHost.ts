// A recorded node for `npm run init`: the playbook's workstation (Core Ultra 9 285K with 8 P-cores
// and 16 E-cores, RTX 5090 + RTX 3060, two NVMe disks, Proxmox VE 9 on a SATA SSD) as a sandbox root
// of the files the read script reads, plus stand-ins printing the recorded output of lspci,
// pveversion and pveam. The read script runs against it with AIDS_ROOT set.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEBIAN_LXC_TEMPLATES } from "../../config/schema/fields";
import { READ_SCRIPT } from "../../tools/init/read";

export interface RecordedPci {
    address: string;
    vendorDeviceId: string;
    subsystemId: string;
    /** sysfs's class, such as "0x030000". */
    classCode: string;
    iommuGroup: number;
}

/**
 * The GPUs' values are the published cards of tests/components/host/pciIdentity.test.ts (a Gigabyte
 * RTX 5090 Gaming OC, an MSI RTX 3060 12GB LHR, groups 14 and 15); the rest is a stand-in for the
 * platform: a host bridge, the CPU's root port above the 5090 (in the GPU's group, as a root port
 * often is), the iGPU, and two Samsung 990 PRO controllers (144d:a80c, subsystem 144d:a801).
 */
export const RECORDED_PCI: RecordedPci[] = [
    {
        address: "0000:00:00.0",
        vendorDeviceId: "8086:ae7f",
        subsystemId: "8086:7270",
        classCode: "0x060000",
        iommuGroup: 0,
    },
    {
        address: "0000:00:01.0",
        vendorDeviceId: "8086:ae4d",
        subsystemId: "8086:7270",
        classCode: "0x060400",
        iommuGroup: 14,
    },
    {
        address: "0000:00:02.0",
        vendorDeviceId: "8086:7d67",
        subsystemId: "8086:7270",
        classCode: "0x030000",
        iommuGroup: 1,
    },
    {
        address: "0000:01:00.0",
        vendorDeviceId: "10de:2b85",
        subsystemId: "1458:416f",
        classCode: "0x030000",
        iommuGroup: 14,
    },
    {
        address: "0000:01:00.1",
        vendorDeviceId: "10de:22e8",
        subsystemId: "1458:416f",
        classCode: "0x040300",
        iommuGroup: 14,
    },
    {
        address: "0000:02:00.0",
        vendorDeviceId: "10de:2504",
        subsystemId: "1462:397d",
        classCode: "0x030000",
        iommuGroup: 15,
    },
    {
        address: "0000:02:00.1",
        vendorDeviceId: "10de:228e",
        subsystemId: "1462:397d",
        classCode: "0x040300",
        iommuGroup: 15,
    },
    {
        address: "0000:03:00.0",
        vendorDeviceId: "144d:a80c",
        subsystemId: "144d:a801",
        classCode: "0x010802",
        iommuGroup: 16,
    },
    {
        address: "0000:04:00.0",
        vendorDeviceId: "144d:a80c",
        subsystemId: "144d:a801",
        classCode: "0x010802",
        iommuGroup: 17,
    },
];

/** `lspci -nnD` as it prints the GPUs (published lines of these cards) and a stand-in for the rest. */
export const RECORDED_LSPCI = [
    "0000:00:00.0 Host bridge [0600]: Intel Corporation Device [8086:ae7f] (rev 04)",
    "0000:00:01.0 PCI bridge [0604]: Intel Corporation Device [8086:ae4d] (rev 10)",
    "0000:00:02.0 VGA compatible controller [0300]: Intel Corporation Arrow Lake-S [Intel Graphics] [8086:7d67] (rev 06)",
    "0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GB202 [GeForce RTX 5090] [10de:2b85] (rev a1)",
    "0000:01:00.1 Audio device [0403]: NVIDIA Corporation Device [10de:22e8] (rev a1)",
    "0000:02:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA106 [GeForce RTX 3060 Lite Hash Rate] [10de:2504] (rev a1)",
    "0000:02:00.1 Audio device [0403]: NVIDIA Corporation GA106 High Definition Audio Controller [10de:228e] (rev a1)",
    "0000:03:00.0 Non-Volatile memory controller [0108]: Samsung Electronics Co Ltd NVMe SSD Controller S4LV008[Pascal] [144d:a80c]",
    "0000:04:00.0 Non-Volatile memory controller [0108]: Samsung Electronics Co Ltd NVMe SSD Controller S4LV008[Pascal] [144d:a80c]",
];

export const RECORDED_DISKS: Record<string, string> = {
    "nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500001": "nvme0n1",
    "nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500002": "nvme1n1",
    "nvme-eui.0025384b41a00001": "nvme0n1",
    "nvme-eui.0025384b41a00002": "nvme1n1",
    "ata-Samsung_SSD_870_EVO_500GB_S6PXNS0T400001": "sda",
    "ata-Samsung_SSD_870_EVO_500GB_S6PXNS0T400001-part1": "sda1",
    "ata-Samsung_SSD_870_EVO_500GB_S6PXNS0T400001-part2": "sda2",
    "ata-Samsung_SSD_870_EVO_500GB_S6PXNS0T400001-part3": "sda3",
};

/** MemTotal of a 128 GB machine (stand-in value): 131642172 kB is 125.5 GiB. */
export const RECORDED_MEMTOTAL_KB = 131642172;
// `pveversion` on Proxmox VE 9 prints "pve-manager/<version>/<commit> (running kernel: ...)"
// (pve-manager bin/pveversion).
export const RECORDED_PVEVERSION = "pve-manager/9.0.10/deb1ca707ec72a89 (running kernel: 6.14.11-2-pve)";

const templateFile = (url: string) => url.split("/").pop() as string;

/**
 * The template index pveam reads (/var/lib/pve-manager/apl-info/<host>, pve-manager
 * PVE/APLInfo.pm): the Debian entries with the sha512 that config/schema/fields.ts copied from it.
 */
export function recordedAplInfo(): string {
    const entry = (pkg: string, version: string, url: string, sha512: string) =>
        [
            `Package: ${pkg}`,
            `Version: ${version}`,
            "Type: lxc",
            "Section: system",
            `Location: system/${templateFile(url)}`,
            `sha512sum: ${sha512}`,
            "Description: Debian Standard",
            " A small Debian system.",
            "",
        ].join("\n");
    return [
        entry("debian-12-standard", "12.12-1", DEBIAN_LXC_TEMPLATES[8].url, DEBIAN_LXC_TEMPLATES[8].sha512),
        entry("debian-13-standard", "13.6-1", DEBIAN_LXC_TEMPLATES[9].url, DEBIAN_LXC_TEMPLATES[9].sha512),
    ].join("\n");
}

export interface RecordedHost {
    root: string;
    /** Stand-ins for lspci, pveversion and pveam: put first on PATH. */
    bin: string;
    write(file: string, content: string): void;
    remove(file: string): void;
    /** Runs the read script as ssh would (`bash -s`), against this root. */
    read(): { status: number; stdout: string; stderr: string };
}

export function makeRecordedHost(pci: RecordedPci[] = RECORDED_PCI): RecordedHost {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-init-"));
    // Readable by the sshd's session user, whoever runs the suite.
    fs.chmodSync(root, 0o755);
    const file = (p: string) => path.join(root, p);
    const write = (p: string, content: string) => {
        fs.mkdirSync(path.dirname(file(p)), { recursive: true });
        fs.writeFileSync(file(p), content);
    };
    const link = (target: string, p: string) => {
        fs.mkdirSync(path.dirname(file(p)), { recursive: true });
        fs.symlinkSync(target, file(p));
    };
    for (const dev of pci) {
        const [vendor, device] = dev.vendorDeviceId.split(":");
        const [subVendor, subDevice] = dev.subsystemId.split(":");
        const dir = `sys/bus/pci/devices/${dev.address}`;
        write(`${dir}/vendor`, `0x${vendor}\n`);
        write(`${dir}/device`, `0x${device}\n`);
        write(`${dir}/subsystem_vendor`, `0x${subVendor}\n`);
        write(`${dir}/subsystem_device`, `0x${subDevice}\n`);
        write(`${dir}/class`, `${dev.classCode}\n`);
        fs.mkdirSync(file(`sys/kernel/iommu_groups/${dev.iommuGroup}/devices`), { recursive: true });
        link(`../../../../kernel/iommu_groups/${dev.iommuGroup}`, `${dir}/iommu_group`);
    }
    for (const [id, target] of Object.entries(RECORDED_DISKS)) link(`../../${target}`, `dev/disk/by-id/${id}`);
    // A 2 TB disk's sectors of 512 bytes (stand-in count: 2,000,398,934,016 bytes).
    for (const dev of ["nvme0n1", "nvme1n1"]) write(`sys/class/block/${dev}/size`, "3907029168\n");
    write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) Ultra 9 285K\n");
    write("sys/devices/system/cpu/online", "0-23\n");
    write("sys/devices/cpu_core/cpus", "0-7\n");
    write("sys/devices/cpu_atom/cpus", "8-23\n");
    // Each P-core has its own L2; the E-cores share one per cluster of four.
    for (let cpu = 0; cpu < 24; cpu++) {
        const shared =
            cpu < 8 ? `${cpu}` : `${8 + 4 * Math.floor((cpu - 8) / 4)}-${11 + 4 * Math.floor((cpu - 8) / 4)}`;
        write(`sys/devices/system/cpu/cpu${cpu}/cache/index2/shared_cpu_list`, `${shared}\n`);
    }
    write("proc/meminfo", `MemTotal:       ${RECORDED_MEMTOTAL_KB} kB\nMemFree:        120000000 kB\n`);
    write("sys/class/net/enp6s0/device/vendor", "0x8086\n");
    write("sys/class/net/vmbr0/bridge/bridge_id", "8000.aabbccddeeff\n");
    write("sys/class/net/vmbr0/brif/enp6s0/port_no", "0x1\n");
    write("sys/class/net/lo/mtu", "65536\n");
    write("var/lib/pve-manager/apl-info/download.proxmox.com", recordedAplInfo());
    const bin = file("stand-in-bin");
    const tool = (name: string, body: string) => write(`stand-in-bin/${name}`, `#!/usr/bin/env bash\n${body}\n`);
    tool("lspci", `cat <<'EOF'\n${RECORDED_LSPCI.join("\n")}\nEOF`);
    tool("pveversion", `echo '${RECORDED_PVEVERSION}'`);
    // `pveam available --section system` prints "<section> <file>" per template (pve-manager PVE/CLI/pveam.pm).
    tool(
        "pveam",
        `[ "$1 $2 $3" = "available --section system" ] || exit 2\nprintf 'system          %s\\n' ${[8, 9]
            .map((m) => templateFile(DEBIAN_LXC_TEMPLATES[m as 8 | 9].url))
            .join(" ")}`,
    );
    for (const name of fs.readdirSync(bin)) fs.chmodSync(path.join(bin, name), 0o755);
    return {
        root,
        bin,
        write,
        remove: (p) => fs.rmSync(file(p), { recursive: true, force: true }),
        read() {
            const r = spawnSync("bash", ["-s"], {
                input: READ_SCRIPT,
                encoding: "utf8",
                env: { ...process.env, AIDS_ROOT: root, PATH: `${bin}:/usr/bin:/bin` },
            });
            return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
        },
    };
}
