// `npm run init`'s reading and mapping as plain functions: the read script run with bash against a
// recorded node (tests/helpers/initHost.ts), its output parsed, the facts mapped onto nodes.pve1 of
// the shipped Pulumi.yaml, and the refusals (IOMMU off, a GPU sharing its group).

import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { DEBIAN_LXC_TEMPLATES } from "../../config/schema/fields";
import { NodeConfig, NodeSchema } from "../../config/schema/host";
import { parseArgs, proposeFile } from "../../tools/init";
import { unifiedDiff } from "../../tools/init/diff";
import { cpuTopology, InitRefusal, propose } from "../../tools/init/propose";
import { formatCpuList, HostFacts, parseCpuList, parseReadout, READ_SCRIPT } from "../../tools/init/read";
import { shellcheckScripts, validator } from "../helpers/sandbox";
import { makeRecordedHost, RECORDED_MEMTOTAL_KB, RECORDED_PCI, RecordedPci } from "../helpers/initHost";

const PULUMI_YAML = fs.readFileSync(path.join(__dirname, "../../Pulumi.yaml"), "utf8");
const shippedNode = (parse(PULUMI_YAML) as { config: { nodes: { value: Record<string, NodeConfig> } } }).config.nodes
    .value["pve1"] as NodeConfig;
const target = { address: "192.168.1.20", user: "root" };

function recordedFacts(pci?: RecordedPci[], edit?: (h: ReturnType<typeof makeRecordedHost>) => void): HostFacts {
    const host = makeRecordedHost(pci);
    edit?.(host);
    const run = host.read();
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    return parseReadout(run.stdout);
}

const valueAt = (edits: { path: (string | number)[]; value: unknown }[], ...p: string[]) =>
    edits.find((e) => e.path.join(".") === p.join("."))?.value;

test("CPU lists parse and format both ways", () => {
    expect(parseCpuList("0-3,8,10-11")).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(formatCpuList([11, 0, 1, 2, 3, 8, 10])).toBe("0-3,8,10-11");
    expect(parseCpuList("")).toEqual([]);
});

describe("the recorded node", () => {
    const facts = recordedFacts();

    test("the read script's output parses into every fact", () => {
        expect(facts.iommuGroups).toBe(new Set(RECORDED_PCI.map((d) => d.iommuGroup)).size);
        expect(facts.pci.find((f) => f.address === "0000:01:00.1")).toEqual({
            address: "0000:01:00.1",
            vendorDeviceId: "10de:22e8",
            subsystemId: "1458:416f",
            classCode: "040300",
            iommuGroup: 14,
            name: "Audio device [0403]: NVIDIA Corporation Device [10de:22e8] (rev a1)",
        });
        expect(facts.cpu.vendorId).toBe("GenuineIntel");
        expect(facts.cpu.online).toHaveLength(24);
        expect(facts.cpu.core).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(facts.cpu.l2.get(13)).toEqual([12, 13, 14, 15]);
        expect(facts.memTotalKiB).toBe(RECORDED_MEMTOTAL_KB);
        expect(facts.pveversion).toMatch(/^pve-manager\/9\./);
        expect(facts.bridges).toEqual([{ name: "vmbr0", ports: ["enp6s0"] }]);
        expect(facts.nics).toEqual(["enp6s0"]);
        expect(facts.templatesAvailable).toContain("debian-13-standard_13.6-1_amd64.tar.zst");
        expect(facts.templateIndex.find((t) => t.file.startsWith("debian-13"))?.sha512).toBe(
            DEBIAN_LXC_TEMPLATES[9].sha512,
        );
    });

    test("the hybrid CPU: P-cores from cpu_core, E-cores in their L2 clusters", () => {
        expect(cpuTopology(facts)).toEqual({
            performance: "0-7",
            efficiencyClusters: ["8-11", "12-15", "16-19", "20-23"],
        });
        // Not hybrid: no cpu_core/cpu_atom, so no topology and all threads.
        const plain = recordedFacts(undefined, (h) => {
            h.remove("sys/devices/cpu_core");
            h.remove("sys/devices/cpu_atom");
        });
        expect(cpuTopology(plain)).toBeUndefined();
        expect(valueAt(propose(plain, shippedNode, target).edits, "cpu", "threads")).toBe(24);
    });

    test("the GPUs are matched by id and take the node's address, subsystem ids, groups and functions", () => {
        // The config's card sits at another address with a wrong group: the node's values replace them.
        const moved: NodeConfig = {
            ...shippedNode,
            gpus: {
                ...shippedNode.gpus,
                rtx3060: {
                    ...(shippedNode.gpus["rtx3060"] as NodeConfig["gpus"][string]),
                    pciAddress: "0000:05:00.0",
                    iommuGroup: 3,
                    functions: [],
                },
            },
        };
        const { edits, notes } = propose(facts, moved, target);
        expect(valueAt(edits, "gpus", "rtx3060", "pciAddress")).toBe("0000:02:00.0");
        expect(valueAt(edits, "gpus", "rtx3060", "iommuGroup")).toBe(15);
        expect(valueAt(edits, "gpus", "rtx3060", "subsystemId")).toBe("1462:397d");
        expect(valueAt(edits, "gpus", "rtx3060", "functions")).toEqual([
            { pciAddress: "0000:02:00.1", vendorDeviceId: "10de:228e", subsystemId: "1462:397d" },
        ]);
        expect(valueAt(edits, "gpus", "rtx5090", "iommuGroup")).toBe(14);
        // The iGPU is no NVIDIA card: neither mapped nor noted.
        expect(notes.join("\n")).not.toContain("0000:00:02.0");
    });

    test("a card in no gpus entry is noted, never written", () => {
        const only5090: NodeConfig = { ...shippedNode, gpus: { rtx5090: shippedNode.gpus["rtx5090"]! } };
        const { edits, notes } = propose(facts, only5090, target);
        expect(edits.some((e) => e.path[1] === "rtx3060")).toBe(false);
        expect(notes.join("\n")).toContain("GPU 0000:02:00.0 [10de:2504] subsystem 1462:397d, IOMMU group 15");
    });

    test("disks, memory, the bridges' uplink and the Proxmox major", () => {
        const p = propose(facts, shippedNode, target);
        expect(valueAt(p.edits, "mirrors", "tank-private", "disks")).toEqual([
            "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500001",
            "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500002",
        ]);
        // 3907029168 sectors of 512 bytes are 1863.0 GiB.
        expect(p.notes).toContain(
            "mirrors.tank-private.sizeGiB: the smallest of its disks holds 1863 GiB; set sizeGiB a little below it (ZFS keeps some for itself)",
        );
        // The mirror without disks (a dataset on rpool) is left alone.
        expect(p.edits.some((e) => e.path[1] === "tank-public")).toBe(false);
        expect(valueAt(p.edits, "memory", "totalGiB")).toBe(Math.floor(RECORDED_MEMTOTAL_KB / 1048576));
        expect(valueAt(p.edits, "bridges", "vmbr1", "uplink")).toBe("enp6s0");
        expect(valueAt(p.edits, "managementBridge")).toBeUndefined();
        expect(p.majorVersion).toBe(9);
        expect(p.notes.join("\n")).toContain("debian-13-standard_13.6-1_amd64.tar.zst (the program's default");
    });

    test("a newer template in the node's index is named with its checksum", () => {
        const newer = recordedFacts(undefined, (h) => {
            // A stand-in entry and checksum: what the index would list after a template release.
            h.write(
                "var/lib/pve-manager/apl-info/download.proxmox.com",
                `Package: debian-13-standard\nLocation: system/debian-13-standard_13.9-1_amd64.tar.zst\nsha512sum: ${"ab".repeat(64)}\n\n`,
            );
            h.write(
                "stand-in-bin/pveam",
                "#!/usr/bin/env bash\necho 'system debian-13-standard_13.9-1_amd64.tar.zst'\n",
            );
        });
        expect(propose(newer, shippedNode, target).notes.join("\n")).toContain(
            `the node's index lists debian-13-standard_13.9-1_amd64.tar.zst (sha512 ${"ab".repeat(64)})`,
        );
    });

    test("the file: a diff of only what differs, comments kept", () => {
        const r = proposeFile(PULUMI_YAML, facts, { ...target, port: 22 });
        expect(r.node).toBe("pve1");
        const diff = unifiedDiff(r.before, r.after, "Pulumi.yaml");
        const changed = diff.split("\n").filter((l) => /^[-+] /.test(l));
        expect(changed).toEqual([
            "+      majorVersion: 9",
            "-        address: 192.168.1.10",
            "+        address: 192.168.1.20",
            "-              - /dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0X000001",
            "-              - /dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0X000002",
            "+              - /dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500001",
            "+              - /dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500002",
            "-            uplink: enp5s0",
            "+            uplink: enp6s0",
            "-            uplink: enp5s0",
            "+            uplink: enp6s0",
        ]);
        // The node as written passes the schema, with the node's values in it.
        const written = NodeSchema.parse(
            (parse(r.after) as { config: { nodes: { value: Record<string, unknown> } } }).config.nodes.value["pve1"],
        );
        expect(written.mirrors["tank-private"]?.disks?.[0]).toBe(
            "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7HENJ0W500001",
        );
        expect(written.gpus["rtx5090"]?.functions).toEqual([
            { pciAddress: "0000:01:00.1", vendorDeviceId: "10de:22e8", subsystemId: "1458:416f" },
        ]);
        // Every comment of the file survives.
        const comments = (t: string) => t.split("\n").filter((l) => l.trim().startsWith("#"));
        expect(comments(r.after)).toEqual(comments(r.before));
    });
});

describe("refusals", () => {
    test("IOMMU off: no groups", () => {
        const facts = recordedFacts(undefined, (h) => h.remove("sys/kernel/iommu_groups"));
        expect(() => propose(facts, shippedNode, target)).toThrow(InitRefusal);
        expect(() => propose(facts, shippedNode, target)).toThrow(
            /IOMMU is off on the node: \/sys\/kernel\/iommu_groups is empty/,
        );
    });

    test("a GPU sharing its group with an NVMe controller", () => {
        const shared = RECORDED_PCI.map((d) => (d.address === "0000:03:00.0" ? { ...d, iommuGroup: 15 } : d));
        const facts = recordedFacts(shared);
        expect(() => propose(facts, shippedNode, target)).toThrow(
            /GPU 0000:02:00.0 shares IOMMU group 15 with 0000:03:00.0 \[144d:a80c\]/,
        );
    });

    test("its own functions and a PCI bridge in the group are fine; a host bridge is not", () => {
        // The recorded 5090 shares group 14 with its audio function and its root port (class 0x0604).
        expect(() => propose(recordedFacts(), shippedNode, target)).not.toThrow();
        const withHostBridge = RECORDED_PCI.map((d) => (d.address === "0000:00:00.0" ? { ...d, iommuGroup: 14 } : d));
        expect(() => propose(recordedFacts(withHostBridge), shippedNode, target)).toThrow(
            /GPU 0000:01:00.0 shares IOMMU group 14 with 0000:00:00.0 \[8086:ae7f\]/,
        );
    });
});

test("arguments", () => {
    expect(parseArgs(["--host", "root@10.0.0.5", "--node", "pve2", "--yes"])).toMatchObject({
        user: "root",
        address: "10.0.0.5",
        node: "pve2",
        yes: true,
        port: 22,
    });
    expect(() => parseArgs(["--host", "10.0.0.5"])).toThrow(/<user>@<address>/);
    expect(() => parseArgs([])).toThrow(/--host root@<address>/);
    expect(parseArgs(["--help"])).toBe("help");
});

const shellcheck = validator("shellcheck");
(shellcheck ? test : test.skip)("the read script passes shellcheck", () => {
    const script = ["#!/usr/bin/env bash", READ_SCRIPT].join("\n");
    shellcheckScripts(shellcheck as string, { "init-read.sh": script });
});
