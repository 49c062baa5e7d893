// The GPU VM: an Ubuntu cloud image on q35/OVMF, its GPU passed through by PCI mapping (never by raw
// id), pinned CPUs, hugepage-backed RAM, NVMe-tuned disks, and cloud-init that installs the NVIDIA
// driver, the container toolkit and Docker. Protected against deletion by default.
//
// Proxmox lets only root@pam set CPU affinity and hugepages, and an API token is never root@pam,
// so those two go through `qm set` over root SSH (the "tune" command), which also starts the VM
// once the host check says the card is bound to vfio-pci and the kernel arguments are live.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { formatCpuset, parseCpuset } from "../config/cpuset";
import { addressOf } from "../config/net";
import { EnvironmentName, GpuConfig, VmConfig } from "../config/schema";
import { renderUserData } from "./cloudInit";
import { guestIpv4 } from "./guest";
import { GuestFirewall } from "./guestFirewall";

export interface GpuPassthroughVmArgs {
    readonly environment: EnvironmentName;
    readonly nodeName: string;
    readonly vm: VmConfig;
    /** The card this VM holds, with its config key. */
    readonly gpu?: { readonly name: string; readonly config: GpuConfig };
    /** Storage id of the environment's mirror (disks, EFI vars, cloud-init drive). */
    readonly storageId: pulumi.Input<string>;
    /** Datastore for the cloud-init snippet. */
    readonly filesDatastore: string;
    /** Datastore file id of the cloud image to import (`local:import/...`). */
    readonly imageFileId: pulumi.Input<string>;
    readonly hugepageSize: "2M" | "1G";
    readonly bridge: pulumi.Input<string>;
    readonly gateway: string;
    readonly dns: readonly string[];
    readonly securityGroup: pulumi.Input<string>;
    /** Root SSH to the node and whether it is ready (see ProxmoxHost). */
    readonly host: {
        readonly connection: command.types.input.remote.ConnectionArgs;
        readonly ready: pulumi.Input<boolean>;
    };
    /** Resources everything here must wait for: the host bootstrap and check. */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export interface GpuSummary {
    name: string;
    model: string;
    pciAddress: string;
    vramGiB: number;
    memoryBandwidthGBs: number;
    mapping: string;
}

/** Sorted: Proxmox stores tags sorted, so unsorted tags would show a diff on every preview. */
export function vmTags(env: EnvironmentName, hasGpu: boolean): string[] {
    return ["ai-dualstack", env, ...(hasGpu ? ["gpu"] : [])].sort();
}

/** The PCI mapping name of a GPU; unique per environment, so the two stacks never share one. */
export function pciMappingName(env: EnvironmentName, gpuName: string): string {
    return `${env}-${gpuName}`;
}

/** Mapping path: the bus:device without a function passes every function of the card. */
export function pciMappingPath(gpu: GpuConfig): string {
    return gpu.functions.length > 0 ? gpu.pciAddress.replace(/\.[0-7]$/, "") : gpu.pciAddress;
}

export function hugepagesValue(size: "2M" | "1G"): string {
    return size === "1G" ? "1024" : "2";
}

export interface TuneArgs {
    vmid: number;
    affinity: string;
    /** Proxmox's hugepages value ("1024" or "2"), or undefined for none. */
    hugepages?: string;
    /** Start the VM now (the host is ready), or leave it stopped. */
    start: boolean;
}

/** The root-only settings of a VM, applied with `qm`, then the start once the host is ready. */
export function renderTuneScript(t: TuneArgs): string {
    const memory =
        t.hugepages === undefined ? "--delete hugepages,keephugepages" : `--hugepages ${t.hugepages} --keephugepages 0`;
    const lines = [
        "set -euo pipefail",
        `qm set ${t.vmid} --affinity ${t.affinity} ${memory}`,
        t.start
            ? `if qm status ${t.vmid} | grep -q running; then echo "ai-dualstack: VM ${t.vmid} is running"; else qm start ${t.vmid} && echo "ai-dualstack: started VM ${t.vmid}"; fi`
            : `echo "ai-dualstack: VM ${t.vmid} stays stopped until the host reboot (see the hosts output); run pulumi up again after it"`,
    ];
    return `${lines.join("\n")}\n`;
}

export class GpuPassthroughVm extends pulumi.ComponentResource {
    public readonly vm: proxmoxve.VmLegacy;
    /** Root-only settings (affinity, hugepages) and the start, over SSH. */
    public readonly tune: command.remote.Command;
    public readonly mapping?: proxmoxve.hardware.mapping.Pci;
    public readonly userData: proxmoxve.FileLegacy;
    public readonly firewall: GuestFirewall;
    public readonly vmId: pulumi.Output<number>;
    /** The configured static address, or the first one the guest agent reports. */
    public readonly address: pulumi.Output<string | undefined>;
    public readonly gpu?: GpuSummary;

    constructor(name: string, args: GpuPassthroughVmArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:compute:GpuPassthroughVm", name, {}, opts);
        const { vm, environment: env } = args;
        const vmName = name;

        if (args.gpu) {
            const gpu = args.gpu.config;
            const mappingName = pciMappingName(env, args.gpu.name);
            this.mapping = new proxmoxve.hardware.mapping.Pci(
                `${name}-gpu`,
                {
                    name: mappingName,
                    comment: `ai-dualstack ${env}: ${gpu.model} for ${vmName}`,
                    maps: [
                        {
                            node: args.nodeName,
                            path: pciMappingPath(gpu),
                            id: gpu.vendorDeviceId,
                            iommuGroup: gpu.iommuGroup,
                            ...(gpu.subsystemId ? { subsystemId: gpu.subsystemId } : {}),
                        },
                    ],
                    mediatedDevices: false,
                },
                { parent: this },
            );
            this.gpu = {
                name: args.gpu.name,
                model: gpu.model,
                pciAddress: gpu.pciAddress,
                vramGiB: gpu.vramGiB,
                memoryBandwidthGBs: gpu.memoryBandwidthGBs,
                mapping: mappingName,
            };
        }

        this.userData = new proxmoxve.FileLegacy(
            `${name}-user-data`,
            {
                nodeName: args.nodeName,
                datastoreId: args.filesDatastore,
                contentType: "snippets",
                sourceRaw: {
                    fileName: `${env}-${vmName}-user-data.yaml`,
                    data: renderUserData({
                        hostname: vmName,
                        user: vm.cloudInit.user,
                        sshPublicKeys: vm.cloudInit.sshPublicKeys,
                        timezone: vm.cloudInit.timezone,
                        ...(args.gpu ? { nvidiaDriverBranch: vm.cloudInit.nvidiaDriverBranch } : {}),
                    }),
                },
            },
            // Snippets can be uploaded only once the bootstrap enabled them on the datastore.
            { parent: this, dependsOn: args.dependsOn },
        );

        this.vm = new proxmoxve.VmLegacy(
            name,
            {
                nodeName: args.nodeName,
                vmId: vm.vmid,
                name: vmName,
                description: vm.description ?? `ai-dualstack ${env} GPU VM${this.gpu ? ` (${this.gpu.model})` : ""}`,
                tags: vmTags(env, this.gpu !== undefined),
                machine: "q35",
                bios: "ovmf",
                // Secure Boot keys stay out: the NVIDIA modules would need enrolling (MOK) to load.
                efiDisk: { datastoreId: args.storageId, fileFormat: "raw", type: "4m", preEnrolledKeys: false },
                // Affinity and hugepages are root-only: the tune command below sets them.
                cpu: {
                    type: "host",
                    sockets: 1,
                    cores: vm.cores,
                    // Proxmox backs guest RAM with hugepages only when NUMA is on.
                    numa: vm.hugepages,
                },
                memory: {
                    dedicated: Math.round(vm.memoryGiB * 1024),
                    // Ballooning cannot reclaim RAM pinned for a passed-through device.
                    floating: 0,
                },
                scsiHardware: "virtio-scsi-single",
                disks: [
                    {
                        interface: "scsi0",
                        datastoreId: args.storageId,
                        importFrom: args.imageFileId,
                        size: vm.disk.sizeGiB,
                        fileFormat: "raw",
                        iothread: true,
                        discard: "on",
                        ssd: true,
                        cache: "none",
                        aio: "io_uring",
                    },
                ],
                hostpcis: this.mapping
                    ? [
                          {
                              device: "hostpci0",
                              mapping: this.mapping.name.apply((n) => n ?? ""),
                              pcie: true,
                              rombar: true,
                              xvga: false,
                          },
                      ]
                    : [],
                networkDevices: [
                    {
                        bridge: args.bridge,
                        model: "virtio",
                        firewall: true,
                        queues: Math.min(vm.cores, 8),
                        ...(vm.network.macAddress ? { macAddress: vm.network.macAddress } : {}),
                    },
                ],
                initialization: {
                    datastoreId: args.storageId,
                    interface: "ide2",
                    ipConfigs: [{ ipv4: guestIpv4(vm.network, args.gateway) }],
                    ...(args.dns.length > 0 ? { dns: { servers: [...args.dns] } } : {}),
                    userDataFileId: this.userData.id,
                },
                operatingSystem: { type: "l26" },
                agent: { enabled: true, trim: true, timeout: "20m" },
                vga: { type: "std" },
                tabletDevice: false,
                onBoot: vm.startOnBoot,
                // Created stopped: the tune command starts it once the host is ready.
                started: false,
                stopOnDestroy: true,
            },
            {
                parent: this,
                protect: vm.protect,
                dependsOn: args.dependsOn,
                ignoreChanges: [
                    // A newer cloud image must not replace a running VM: it only seeds new ones.
                    "disks[0].importFrom",
                    // Owned by the tune command.
                    "started",
                    "cpu.affinity",
                    "memory.hugepages",
                    "memory.keepHugepages",
                ],
            },
        );
        this.tune = new command.remote.Command(
            `${name}-tune`,
            {
                connection: args.host.connection,
                create: "bash -s",
                update: "bash -s",
                stdin: pulumi.output(args.host.ready).apply((ready) =>
                    renderTuneScript({
                        vmid: vm.vmid,
                        affinity: formatCpuset(parseCpuset(vm.cpuset)),
                        ...(vm.hugepages ? { hugepages: hugepagesValue(args.hugepageSize) } : {}),
                        start: ready,
                    }),
                ),
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: [this.vm] },
        );
        this.vmId = this.vm.vmId.apply((id) => id ?? vm.vmid);
        this.address =
            vm.network.address === "dhcp"
                ? this.vm.ipv4Addresses.apply((all) => all?.flat().find((ip) => ip !== "127.0.0.1"))
                : pulumi.output(addressOf(vm.network.address));

        this.firewall = new GuestFirewall(
            `${name}-firewall`,
            {
                nodeName: args.nodeName,
                vmId: this.vmId,
                securityGroup: args.securityGroup,
                inbound: vm.firewall.inbound,
            },
            { parent: this },
        );

        this.registerOutputs({ vmId: this.vmId, address: this.address, gpu: this.gpu });
    }
}
