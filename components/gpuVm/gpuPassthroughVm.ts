// The GPU VM: an Ubuntu cloud image on q35/OVMF, its GPU passed through by PCI mapping (never by raw
// id), pinned CPUs, hugepage-backed RAM, NVMe-tuned disks, and cloud-init that installs the NVIDIA
// driver, the container toolkit and Docker. Protected against deletion by default.
//
// Proxmox lets only root@pam set CPU affinity and hugepages, and an API token is never root@pam,
// so those two go through `qm set` over root SSH (the "tune" command, tune.ts), which also starts
// the VM once the host check says the card is bound to vfio-pci and the kernel arguments are live.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { withFormerTypes } from "../formerTypes";
import { GpuModel, VmModel } from "../../config/resolve";
import { EnvironmentName } from "../../config/schema";
import { describe } from "../describe";
import { GuestFirewall, guestFirewallArgs } from "../network/guestFirewall";
import { GuestArgs } from "../guestArgs";
import { guestIpv4 } from "../network/guestIpv4";
import { renderUserData } from "./cloudInit";
import { describeTune, renderTuneScript } from "./tune";

/** What of the VM's model the component uses. */
export type GpuVmSpec = Pick<
    VmModel,
    | "name"
    | "vmid"
    | "node"
    | "description"
    | "gpu"
    | "cores"
    | "cpus"
    | "memoryGiB"
    | "hugepages"
    | "disk"
    | "network"
    | "cloudInit"
    | "inbound"
    | "protect"
    | "startOnBoot"
>;

export interface GpuPassthroughVmArgs extends GuestArgs {
    readonly vm: GpuVmSpec;
    /** Datastore for the cloud-init snippet. */
    readonly filesDatastore: string;
    /** Datastore file id of the cloud image to import (`local:import/...`). */
    readonly imageFileId: pulumi.Input<string>;
    /** Root SSH to the node, and whether the host check found it ready (no reboot pending). */
    readonly host: {
        readonly connection: command.types.input.remote.ConnectionArgs;
        readonly ready: boolean;
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

/**
 * What the stack wires to after a GPU guest, VM or container: its id, its address, its card, and the
 * step after which its Docker answers.
 */
export interface GpuGuest {
    readonly vmId: pulumi.Output<number>;
    readonly address: pulumi.Output<string | undefined>;
    readonly gpu?: GpuSummary;
    /** The VM's tune step (its start) or the container's set-up. */
    readonly ready: pulumi.Resource;
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
export function pciMappingPath(gpu: Pick<GpuModel, "pciAddress" | "functions">): string {
    return gpu.functions.length > 0 ? gpu.pciAddress.replace(/\.[0-7]$/, "") : gpu.pciAddress;
}

/** The VM's hardware: host CPU type, RAM that cannot balloon, an NVMe-tuned disk, the GPU by mapping. */
function hardware(vm: GpuVmSpec, args: GpuPassthroughVmArgs, mapping?: proxmoxve.hardware.mapping.Pci) {
    return {
        machine: "q35",
        bios: "ovmf",
        // Secure Boot keys stay out: the NVIDIA modules would need enrolling (MOK) to load.
        efiDisk: { datastoreId: args.storageId, fileFormat: "raw", type: "4m", preEnrolledKeys: false },
        // Affinity and hugepages are root-only: the tune command sets them.
        // Proxmox backs guest RAM with hugepages only when NUMA is on.
        cpu: { type: "host", sockets: 1, cores: vm.cores, numa: vm.hugepages !== undefined },
        // Ballooning cannot reclaim RAM pinned for a passed-through device.
        memory: { dedicated: Math.round(vm.memoryGiB * 1024), floating: 0 },
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
        hostpcis: mapping
            ? [
                  {
                      device: "hostpci0",
                      mapping: mapping.name.apply((n) => n ?? ""),
                      pcie: true,
                      rombar: true,
                      xvga: false,
                  },
              ]
            : [],
    } satisfies Partial<proxmoxve.VmLegacyArgs>;
}

export class GpuPassthroughVm extends pulumi.ComponentResource implements GpuGuest {
    public readonly vm: proxmoxve.VmLegacy;
    /** Root-only settings (affinity, hugepages) and the start, over SSH. */
    public readonly tune: command.remote.Command;
    /** The tune step: the VM runs after it. */
    public readonly ready: pulumi.Resource;
    public readonly mapping?: proxmoxve.hardware.mapping.Pci;
    public readonly userData: proxmoxve.FileLegacy;
    public readonly firewall: GuestFirewall;
    public readonly vmId: pulumi.Output<number>;
    /** The configured static address, or the first one the guest agent reports. */
    public readonly address: pulumi.Output<string | undefined>;
    public readonly gpu?: GpuSummary;

    constructor(name: string, args: GpuPassthroughVmArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "ai-dualstack:gpuVm:GpuPassthroughVm",
            name,
            {},
            withFormerTypes("ai-dualstack:gpuVm:GpuPassthroughVm", opts),
        );
        const { vm, environment: env } = args;
        if (vm.gpu) {
            this.mapping = this.gpuMapping(name, env, vm.gpu, vm.node);
            this.gpu = {
                name: vm.gpu.name,
                model: vm.gpu.model,
                pciAddress: vm.gpu.pciAddress,
                vramGiB: vm.gpu.vramGiB,
                memoryBandwidthGBs: vm.gpu.memoryBandwidthGBs,
                mapping: pciMappingName(env, vm.gpu.name),
            };
        }
        this.userData = this.cloudInit(name, args);
        this.vm = this.machine(name, args);
        this.vmId = this.vm.vmId.apply((id) => id ?? vm.vmid);
        this.address =
            vm.network.address === undefined
                ? this.vm.ipv4Addresses.apply((all) => all?.flat().find((ip) => ip !== "127.0.0.1"))
                : pulumi.output(vm.network.address.ip);
        this.firewall = new GuestFirewall(
            `${name}-firewall`,
            guestFirewallArgs({ vmId: this.vmId }, { ...vm, address: vm.network.address?.ip }, args),
            { parent: this },
        );
        const tune = { vmid: vm.vmid, cpus: vm.cpus, ...(vm.hugepages ? { hugepages: vm.hugepages } : {}) };
        this.tune = describe(
            describeTune(tune),
            new command.remote.Command(
                `${name}-tune`,
                {
                    connection: args.host.connection,
                    create: "bash -s",
                    update: "bash -s",
                    stdin: renderTuneScript({ ...tune, start: args.host.ready }),
                    logging: "stdoutAndStderr",
                },
                // The VM starts with its firewall in place, never open for a moment.
                { parent: this, dependsOn: [this.vm, this.firewall] },
            ),
        );
        this.ready = this.tune;
        this.registerOutputs({ vmId: this.vmId, address: this.address, gpu: this.gpu });
    }

    private gpuMapping(name: string, env: EnvironmentName, gpu: GpuModel, node: string) {
        return new proxmoxve.hardware.mapping.Pci(
            `${name}-gpu`,
            {
                name: pciMappingName(env, gpu.name),
                comment: `ai-dualstack ${env}: ${gpu.model} for ${name}`,
                maps: [
                    {
                        node,
                        path: pciMappingPath(gpu),
                        id: gpu.vendorDeviceId,
                        iommuGroup: gpu.iommuGroup,
                        // Proxmox checks the mapping against sysfs at every VM start, and one without
                        // the subsystem id that sysfs has is refused (pve-guest-common
                        // src/PVE/Mapping/PCI.pm, assert_valid). A whole-card path is checked by its
                        // function 0, so the card's own ids go here.
                        subsystemId: gpu.subsystemId,
                    },
                ],
                mediatedDevices: false,
            },
            { parent: this },
        );
    }

    /** The cloud-init user data, uploaded as a snippet. */
    private cloudInit(name: string, args: GpuPassthroughVmArgs): proxmoxve.FileLegacy {
        const { vm, environment: env } = args;
        return new proxmoxve.FileLegacy(
            `${name}-user-data`,
            {
                nodeName: vm.node,
                datastoreId: args.filesDatastore,
                contentType: "snippets",
                sourceRaw: {
                    fileName: `${env}-${name}-user-data.yaml`,
                    data: renderUserData({
                        hostname: name,
                        user: vm.cloudInit.user,
                        sshPublicKeys: vm.cloudInit.sshPublicKeys,
                        timezone: vm.cloudInit.timezone,
                        ...(vm.gpu ? { nvidiaDriverBranch: vm.cloudInit.nvidiaDriverBranch } : {}),
                    }),
                },
            },
            // Snippets can be uploaded only once the bootstrap enabled them on the datastore.
            { parent: this, dependsOn: args.dependsOn },
        );
    }

    private machine(name: string, args: GpuPassthroughVmArgs): proxmoxve.VmLegacy {
        const { vm, environment: env } = args;
        const nic = {
            bridge: args.bridge,
            model: "virtio",
            firewall: true,
            queues: Math.min(vm.cores, 8),
            ...(vm.network.macAddress ? { macAddress: vm.network.macAddress } : {}),
        };
        return new proxmoxve.VmLegacy(
            name,
            {
                nodeName: vm.node,
                vmId: vm.vmid,
                poolId: args.poolId,
                name,
                description: vm.description ?? `ai-dualstack ${env} GPU VM${vm.gpu ? ` (${vm.gpu.model})` : ""}`,
                tags: vmTags(env, vm.gpu !== undefined),
                ...hardware(vm, args, this.mapping),
                networkDevices: [nic],
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
                // Never restarted by the provider (its default is true): a restart resets the card,
                // and an RTX 5090 that fails its reset hangs until the host is power-cycled. A
                // change Proxmox applies only at the next start waits for the user's restart; the
                // replace guard and the plan say so (docs/deploying.md, "Restarting a GPU VM").
                rebootAfterUpdate: false,
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
    }
}
