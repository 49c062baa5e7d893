// GpuPassthroughVm in mock mode: the inputs that decide whether a GPU VM works on a real host.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { GpuPassthroughVm, GpuVmSpec, pciMappingPath, vmTags } from "../../../components/gpuVm/gpuPassthroughVm";
import { renderTuneScript } from "../../../components/gpuVm/tune";
import { GuestFirewallPolicy } from "../../../config/policy";
import { GpuModel, VmModel } from "../../../config/resolve";
import { POLICIES } from "../../../stacks";
import { stackModel } from "../../helpers/config";
import { one, ofType, record } from "../../helpers/pulumi";
import { makeSandbox } from "../../helpers/sandbox";

const vm = stackModel("private").vms.find((v) => v.name === "private-ai") as VmModel;
const gpu = vm.gpu as GpuModel;

function build(
    overrides: Partial<GpuVmSpec> = {},
    withGpu = true,
    ready = true,
    firewallPolicy: GuestFirewallPolicy = POLICIES.private,
) {
    const { gpu: _held, ...withoutGpu } = vm;
    return record(
        () =>
            new GpuPassthroughVm("private-ai", {
                environment: "private",
                vm: { ...(withGpu ? vm : withoutGpu), ...overrides },
                storageId: "tank-private",
                poolId: "private",
                filesDatastore: "local",
                imageFileId: "local:import/private-noble-server-cloudimg-amd64.qcow2",
                bridge: "vmbr1",
                gateway: "10.10.10.1",
                dns: ["10.10.10.1"],
                securityGroup: "aids-private",
                firewallPolicy,
                host: { connection: { host: "192.168.1.10", user: "root", privateKey: "key" }, ready },
            }),
    );
}

test("the GPU goes through a PCI mapping of all its functions, never a raw id", async () => {
    const resources = await build();
    const mapping = one(resources, proxmoxve.hardware.mapping.Pci);
    // Exactly the keys Proxmox checks against sysfs at VM start (pve-guest-common
    // src/PVE/Mapping/PCI.pm, assert_valid): without subsystem-id a real card is refused with "no
    // 'subsystem-id' for device". A whole-card path is checked by its function 0.
    expect(mapping.inputs["maps"]).toEqual([
        { node: "pve1", path: "0000:01:00", id: "10de:2b85", subsystemId: "1458:416f", iommuGroup: 14 },
    ]);
    expect(mapping.inputs["name"]).toBe("private-rtx5090");
    const vmRes = one(resources, proxmoxve.VmLegacy);
    expect(vmRes.inputs["hostpcis"]).toEqual([
        { device: "hostpci0", mapping: "private-rtx5090", pcie: true, rombar: true, xvga: false },
    ]);
    expect(JSON.stringify(vmRes.inputs["hostpcis"])).not.toContain('"id"');
    // The provider's rebootAfterUpdate defaults to true (its VmLegacy docs): a change needing the VM
    // offline would restart it and reset the card. It must never restart a GPU VM.
    expect(vmRes.inputs["rebootAfterUpdate"]).toBe(false);
    expect(vmRes.dependencies).toContain(mapping.urn);
});

test("q35, OVMF with a 4m EFI disk without Secure Boot keys, host CPU type, NUMA for hugepages, no ballooning", async () => {
    const i = one(await build(), proxmoxve.VmLegacy).inputs;
    expect(i).toMatchObject({
        nodeName: "pve1",
        vmId: 110,
        name: "private-ai",
        machine: "q35",
        bios: "ovmf",
        poolId: "private",
    });
    expect(i["efiDisk"]).toEqual({
        datastoreId: "tank-private",
        fileFormat: "raw",
        type: "4m",
        preEnrolledKeys: false,
    });
    // Affinity and hugepages are root@pam-only in Proxmox: never sent with the API token.
    expect(i["cpu"]).toEqual({ type: "host", sockets: 1, cores: 8, numa: true });
    expect(i["memory"]).toEqual({ dedicated: 48 * 1024, floating: 0 });
    expect(i["started"]).toBe(false);
});

test("pinning and hugepages go through qm over root SSH, which starts the VM once the host is ready", async () => {
    const resources = await build();
    const tune = one(resources, command.remote.Command);
    const vmRes = one(resources, proxmoxve.VmLegacy);
    expect(tune.dependencies).toContain(vmRes.urn);
    expect(tune.inputs["create"]).toBe("bash -s");
    const script = tune.inputs["stdin"] as string;
    expect(script).toContain("qm set 110 --affinity 0-7 --hugepages 1024 --keephugepages 0");
    expect(script).toContain("qm start 110");

    const waiting = one(await build({}, true, false), command.remote.Command).inputs["stdin"] as string;
    expect(waiting).toContain("qm set 110 --affinity 0-7");
    expect(waiting).not.toContain("qm start");
    expect(waiting).toContain("stays stopped until the host reboot");
});

describe("the tune script with a stand-in qm (real bash)", () => {
    const run = (script: string, status: string) => {
        const sb = makeSandbox([]);
        sb.write("qm-status", `status: ${status}\n`);
        const result = sb.run(script);
        return { ...result, calls: sb.calls() };
    };
    test("starts a stopped VM, and leaves a running one alone", () => {
        const script = renderTuneScript({
            vmid: 110,
            cpus: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
            hugepages: "1G",
            start: true,
        });
        expect(run(script, "stopped").calls).toEqual([
            "qm set 110 --affinity 2-13 --hugepages 1024 --keephugepages 0",
            "qm status 110",
            "qm start 110",
        ]);
        expect(run(script, "running").calls).toEqual([
            "qm set 110 --affinity 2-13 --hugepages 1024 --keephugepages 0",
            "qm status 110",
        ]);
    });
    test("without hugepages it removes them", () => {
        const result = run(renderTuneScript({ vmid: 111, cpus: [14, 15], start: false }), "stopped");
        expect(result.status).toBe(0);
        expect(result.calls).toEqual(["qm set 111 --affinity 14-15 --delete hugepages,keephugepages"]);
    });
});

test("the disk is tuned for NVMe and imported from the cloud image; cloud-init comes from the snippet", async () => {
    const resources = await build();
    const i = one(resources, proxmoxve.VmLegacy).inputs;
    expect(i["scsiHardware"]).toBe("virtio-scsi-single");
    expect(i["disks"]).toEqual([
        expect.objectContaining({
            interface: "scsi0",
            datastoreId: "tank-private",
            importFrom: "local:import/private-noble-server-cloudimg-amd64.qcow2",
            size: 500,
            iothread: true,
            discard: "on",
            ssd: true,
        }),
    ]);
    const snippet = one(resources, proxmoxve.FileLegacy);
    expect(snippet.inputs).toMatchObject({
        contentType: "snippets",
        datastoreId: "local",
        sourceRaw: { fileName: "private-private-ai-user-data.yaml" },
    });
    expect(i["initialization"]).toMatchObject({
        datastoreId: "tank-private",
        ipConfigs: [{ ipv4: { address: "10.10.10.10/24", gateway: "10.10.10.1" } }],
        dns: { servers: ["10.10.10.1"] },
        userDataFileId: "local:snippets/private-private-ai-user-data.yaml",
    });
    expect(i["networkDevices"]).toEqual([
        expect.objectContaining({ bridge: "vmbr1", model: "virtio", firewall: true }),
    ]);
});

test("protected by default, sorted tags, and its own firewall", async () => {
    const resources = await build();
    const vmRes = one(resources, proxmoxve.VmLegacy);
    expect(vmRes.protect).toBe(true);
    expect(vmRes.inputs["tags"]).toEqual(["ai-dualstack", "gpu", "private"]);
    expect(vmTags("public", false)).toEqual(["ai-dualstack", "public"]);
    expect(one(resources, proxmoxve.firewall.OptionsLegacy).inputs).toMatchObject({
        vmId: 110,
        enabled: true,
        inputPolicy: "DROP",
    });
    // The baseline group first, then the VM's own rules (its published ports, config/resolve/firewall.ts).
    expect(one(resources, proxmoxve.firewall.RulesLegacy).inputs["rules"]).toEqual([
        { securityGroup: "aids-private", comment: "environment baseline", enabled: true },
        ...vm.inbound.map((r) => ({
            type: "in",
            action: "ACCEPT",
            proto: r.proto,
            dport: r.port,
            source: r.source,
            comment: r.comment,
            enabled: true,
        })),
    ]);
    expect(one(await build({ protect: false }), proxmoxve.VmLegacy).protect).toBe(false);
});

test("the firewall follows the policy: outbound DROP, anti-spoofing on its own address, in place before the VM starts", async () => {
    const resources = await build({}, true, true, { outputPolicy: "DROP", ipfilter: true });
    const options = one(resources, proxmoxve.firewall.OptionsLegacy);
    expect(options.inputs).toMatchObject({ vmId: 110, outputPolicy: "DROP", inputPolicy: "DROP", ipfilter: true });
    // Without this set, Proxmox's ipfilter would let the VM send from its IPv6 link-local address only.
    const set = one(resources, proxmoxve.firewall.IpsetLegacy);
    expect(set.inputs).toMatchObject({
        nodeName: "pve1",
        vmId: 110,
        name: "ipfilter-net0",
        cidrs: [{ name: "10.10.10.10" }],
    });
    const rules = one(resources, proxmoxve.firewall.RulesLegacy);
    expect(options.dependencies).toEqual(expect.arrayContaining([rules.urn, set.urn]));
    // The tune step starts the VM: it waits for the whole firewall.
    const tune = one(resources, command.remote.Command);
    expect(tune.dependencies).toEqual(expect.arrayContaining([options.urn, rules.urn]));

    // A DHCP VM's address is unknown: ipfilter stays off rather than cut it off.
    const dhcp = await build({ network: { bridge: "vmbr1" } }, true, true, { outputPolicy: "DROP", ipfilter: true });
    expect(one(dhcp, proxmoxve.firewall.OptionsLegacy).inputs["ipfilter"]).toBe(false);
    expect(ofType(dhcp, proxmoxve.firewall.IpsetLegacy)).toHaveLength(0);
});

test("without a GPU there is no mapping, no hostpci and no driver in cloud-init", async () => {
    const resources = await build({ hugepages: undefined }, false);
    expect(ofType(resources, proxmoxve.hardware.mapping.Pci)).toHaveLength(0);
    const i = one(resources, proxmoxve.VmLegacy).inputs;
    expect(i["hostpcis"]).toEqual([]);
    expect((i["cpu"] as Record<string, unknown>)["numa"]).toBe(false);
    expect(one(resources, command.remote.Command).inputs["stdin"]).toContain("--delete hugepages,keephugepages");
    const data = (one(resources, proxmoxve.FileLegacy).inputs["sourceRaw"] as { data: string }).data;
    expect(data).not.toContain("nvidia");
});

test("a single-function card maps its one function", () => {
    expect(pciMappingPath({ ...gpu, functions: [] })).toBe("0000:01:00.0");
    expect(pciMappingPath(gpu)).toBe("0000:01:00");
});
