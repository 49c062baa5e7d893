// The host check against a sysfs tree built from real cards' published `lspci -nnv` values: every
// function of every mapped GPU must match the config in vendor, device, subsystem_vendor,
// subsystem_device and iommu_group, because Proxmox compares the PCI mapping with sysfs at every
// VM start (pve-guest-common src/PVE/Mapping/PCI.pm, assert_valid, which reads sysfs through
// PVE::SysFSTools::pci_device_info) and refuses to start the VM on any difference. The check
// refuses first, names the key and both values, and writes nothing.

import * as fs from "fs";
import * as path from "path";
import { bootstrapPlan, renderCheckScript } from "../../../components/host/bootstrap";
import { resolveNode } from "../../../config/resolve";
import { NodeConfig } from "../../../config/schema";
import { parsedConfig } from "../../helpers/config";
import { makeSandbox, PciDevice, Sandbox } from "../../helpers/sandbox";

/**
 * Published `lspci -nn`/`-nnv` lines: a Gigabyte GeForce RTX 5090 Gaming OC ("GB202 [GeForce RTX
 * 5090] [10de:2b85]", audio "[10de:22e8]", subsystem 1458:416f) and an MSI GeForce RTX 3060 12GB
 * LHR ("GA106 [GeForce RTX 3060 Lite Hash Rate] [10de:2504]", audio "[10de:228e]", "Subsystem:
 * Micro-Star International Co., Ltd. [MSI] Device [1462:397d]"). NVIDIA boards give the audio
 * function the card's subsystem id (published MSI RTX 3060 output shows [1462:397d] on both).
 */
const PUBLISHED: PciDevice[] = [
    { address: "0000:01:00.0", vendorDeviceId: "10de:2b85", subsystemId: "1458:416f", iommuGroup: 14, driver: null },
    { address: "0000:01:00.1", vendorDeviceId: "10de:22e8", subsystemId: "1458:416f", iommuGroup: 14, driver: null },
    { address: "0000:02:00.0", vendorDeviceId: "10de:2504", subsystemId: "1462:397d", iommuGroup: 15, driver: null },
    { address: "0000:02:00.1", vendorDeviceId: "10de:228e", subsystemId: "1462:397d", iommuGroup: 15, driver: null },
];

const cfg = parsedConfig("private");
const nodeConfig = cfg.nodes["pve1"] as NodeConfig;
const privatePlan = bootstrapPlan(resolveNode("pve1", nodeConfig, "private"), "private", cfg.proxmox);

/** Every file under the sandbox's /etc, byte for byte (base64): what a refusal must leave alone. */
function etcBytes(sb: Sandbox): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(p);
            else out[path.relative(sb.root, p)] = fs.readFileSync(p).toString("base64");
        }
    };
    walk(path.join(sb.root, "etc"));
    return out;
}

test("the shipped config matches the published cards: the check passes, every function's keys compared", () => {
    const sb = makeSandbox(PUBLISHED);
    const run = sb.run(renderCheckScript(privatePlan));
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    // Both environments' cards, both functions each, with their subsystem ids and groups.
    expect(
        privatePlan.gpuIdentities.map((c) => `${c.address}=${c.vendorDeviceId}/${c.subsystemId}@${c.iommuGroup}`),
    ).toEqual(PUBLISHED.map((d) => `${d.address}=${d.vendorDeviceId}/${d.subsystemId}@${d.iommuGroup}`));
});

const moveGroup = (address: string, group: number) => (sb: Sandbox) => {
    const link = path.join(sb.root, `sys/bus/pci/devices/${address}/iommu_group`);
    fs.mkdirSync(path.join(sb.root, `sys/kernel/iommu_groups/${group}/devices`), { recursive: true });
    fs.rmSync(link);
    fs.symlinkSync(`../../../../kernel/iommu_groups/${group}`, link);
};
const FIX = "did the cards move slots? Fix pciAddress or";

test.each([
    [
        "another board of the same card (the subsystem differs)",
        (sb: Sandbox) => sb.write("sys/bus/pci/devices/0000:01:00.0/subsystem_vendor", "0x1043\n"),
        `0000:01:00.0: subsystem_vendor is 1043 on the host, but the config says 1458 (subsystemId); ${FIX} subsystemId (\`lspci -Dnnv\` shows both; nothing was written)`,
    ],
    [
        "the audio function's subsystem device",
        (sb: Sandbox) => sb.write("sys/bus/pci/devices/0000:01:00.1/subsystem_device", "0x5174\n"),
        `0000:01:00.1: subsystem_device is 5174 on the host, but the config says 416f (subsystemId); ${FIX} subsystemId`,
    ],
    [
        "the other environment's card (its mapping would fail to start just the same)",
        (sb: Sandbox) => sb.write("sys/bus/pci/devices/0000:02:00.1/subsystem_device", "0x3976\n"),
        `0000:02:00.1: subsystem_device is 3976 on the host, but the config says 397d (subsystemId)`,
    ],
    [
        "a different vendor",
        (sb: Sandbox) => sb.write("sys/bus/pci/devices/0000:02:00.0/vendor", "0x1002\n"),
        `0000:02:00.0: vendor is 1002 on the host, but the config says 10de (vendorDeviceId); ${FIX} vendorDeviceId`,
    ],
    [
        "a different device",
        (sb: Sandbox) => sb.write("sys/bus/pci/devices/0000:01:00.1/device", "0x22e9\n"),
        `0000:01:00.1: device is 22e9 on the host, but the config says 22e8 (vendorDeviceId)`,
    ],
    [
        "another IOMMU group",
        moveGroup("0000:01:00.0", 16),
        `0000:01:00.0: iommu_group is 16 on the host, but the config says 14 (iommuGroup); ${FIX} iommuGroup`,
    ],
    [
        "a function whose subsystem sysfs lacks",
        (sb: Sandbox) => fs.rmSync(path.join(sb.root, "sys/bus/pci/devices/0000:02:00.0/subsystem_device")),
        `0000:02:00.0: subsystem_device is none on the host, but the config says 397d (subsystemId)`,
    ],
])("refuses %s, naming the key and both values, and leaves /etc byte for byte", (_what, breakIt, message) => {
    const sb = makeSandbox(PUBLISHED);
    breakIt(sb);
    const before = etcBytes(sb);
    const run = sb.run(renderCheckScript(privatePlan));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(message);
    expect(run.stdout).not.toContain("reboot-required=");
    expect(etcBytes(sb)).toEqual(before);
    // The only tool it ran before refusing: none (the identity check comes before the pool listing).
    expect(sb.calls()).toEqual([]);
});
