// The GPU container: the community-scripts way of the playbook's "Public AI LXC". An unprivileged
// Debian LXC whose card the host's NVIDIA driver drives: the card's device nodes passed through,
// nesting on for Docker, NVIDIA's userspace of the host driver's exact version (no kernel module)
// and the container toolkit inside. Lighter than the VM and without vfio resets, but the guest
// shares the host's kernel (docs/security.md). Its workload, gate, probe, monitoring and backups
// are the VM's.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { VmModel } from "../../config/resolve";
import { EnvironmentName } from "../../config/schema";
import { NVIDIA_TOOLKIT_KEY, pinnedKeyCommand } from "../../lib/aptKeys";
import { formatCpuset } from "../../lib/cpuset";
import { loadScript, renderScript } from "../../lib/scripts";
import { describe } from "../describe";
import { GpuGuest, GpuSummary } from "../gpuVm/gpuPassthroughVm";
import { GuestArgs } from "../guestArgs";
import { GuestFirewall, guestFirewallArgs } from "../network/guestFirewall";
import { guestIpv4 } from "../network/guestIpv4";
import { rootSsh, scriptCommand } from "../remoteScript";

/** What of the guest's model the component uses. */
export type GpuContainerSpec = Pick<
    VmModel,
    | "name"
    | "vmid"
    | "node"
    | "description"
    | "gpu"
    | "container"
    | "cores"
    | "cpus"
    | "memoryGiB"
    | "disk"
    | "network"
    | "cloudInit"
    | "inbound"
    | "protect"
    | "startOnBoot"
>;

export interface GpuContainerArgs extends GuestArgs {
    readonly guest: GpuContainerSpec;
    /** Datastore file id of the template (`local:vztmpl/...`). */
    readonly templateFileId: pulumi.Input<string>;
    /** Root SSH to the node (device passthrough is root@pam's alone), and whether the host check found it ready. */
    readonly host: {
        readonly connection: command.types.input.remote.ConnectionArgs;
        readonly ready: boolean;
    };
    /** The private key whose public half is in cloudInit.sshPublicKeys: the set-up logs in as root with it. */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** Resources everything here must wait for: the host bootstrap and check. */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

const DEVICES = loadScript(__dirname, "gpu-devices.sh");
const SETUP = loadScript(__dirname, "gpu-container-setup.sh");
const START = loadScript(`${__dirname}/../serviceLxc`, "lxc-start.sh");
const COMMENT = "Rendered by ai-dualstack (components/gpuContainer/gpuContainer.ts). Do not edit.";
const TOOLKIT_KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg";
/** The toolkit's repository, added only with NVIDIA's pinned key (lib/aptKeys.ts); apt fills in $(ARCH). */
const TOOLKIT_REPO = pinnedKeyCommand(NVIDIA_TOOLKIT_KEY, {
    keyring: TOOLKIT_KEYRING,
    list: "/etc/apt/sources.list.d/nvidia-container-toolkit.list",
    line: `deb [signed-by=${TOOLKIT_KEYRING}] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /`,
});

/** NVIDIA's self-extracting driver of one version (the Unix driver archive's download path). */
export function nvidiaDriverUrl(version: string): string {
    return `https://us.download.nvidia.com/XFree86/Linux-x86_64/${version}/NVIDIA-Linux-x86_64-${version}.run`;
}

/** Sorted, as Proxmox stores them: the same tags as a GPU VM's, and "lxc". */
export function gpuContainerTags(env: EnvironmentName): string[] {
    return ["ai-dualstack", env, "gpu", "lxc"].sort();
}

/** On the node: the card's device nodes (devN), then pinning and the start (serviceLxc's lxc-start.sh). */
export function renderDevicesScript(args: {
    vmid: number;
    gpu: { name: string; pciAddress: string };
    driverVersion: string;
    cpus: readonly number[];
    ready: boolean;
}): string {
    return renderScript(
        COMMENT,
        {
            AIDS_VMID: String(args.vmid),
            AIDS_GPU_ADDRESS: args.gpu.pciAddress,
            AIDS_GPU_NAME: args.gpu.name,
            AIDS_DRIVER_VERSION: args.driverVersion,
            AIDS_READY: args.ready ? "1" : "0",
            AIDS_CPUS: formatCpuset(args.cpus),
        },
        `${DEVICES}\n${START}`,
    );
}

/** In the container, as root: user, Docker, NVIDIA's userspace (no kernel module), the toolkit. */
export function renderSetupScript(args: {
    driverVersion: string;
    user: string;
    sshPublicKeys: readonly string[];
    timezone: string;
}): string {
    return renderScript(
        COMMENT,
        {
            AIDS_DRIVER_VERSION: args.driverVersion,
            AIDS_DRIVER_URL: nvidiaDriverUrl(args.driverVersion),
            AIDS_USER: args.user,
            AIDS_SSH_KEYS: args.sshPublicKeys.join("\n"),
            AIDS_TIMEZONE: args.timezone,
            AIDS_TOOLKIT_REPO_B64: Buffer.from(TOOLKIT_REPO, "utf8").toString("base64"),
        },
        SETUP,
    );
}

export class GpuContainer extends pulumi.ComponentResource implements GpuGuest {
    public readonly container: proxmoxve.ContainerLegacy;
    public readonly firewall: GuestFirewall;
    /** On the node: the device nodes, the pinning and the start, after the firewall. */
    public readonly start: command.remote.Command;
    /** In the container: driver userspace, toolkit, Docker, the user; absent while the node waits for a reboot. */
    public readonly setup?: command.remote.Command;
    public readonly ready: pulumi.Resource;
    public readonly vmId: pulumi.Output<number>;
    public readonly address: pulumi.Output<string | undefined>;
    public readonly gpu?: GpuSummary;

    constructor(name: string, args: GpuContainerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:gpuContainer:GpuContainer", name, {}, opts);
        const { guest } = args;
        const gpu = guest.gpu;
        const driverVersion = guest.container?.driverVersion;
        if (!gpu || driverVersion === undefined) {
            throw new Error(`internal: GPU container ${name} built without a GPU or the host's driver`);
        }
        this.gpu = {
            name: gpu.name,
            model: gpu.model,
            pciAddress: gpu.pciAddress,
            vramGiB: gpu.vramGiB,
            memoryBandwidthGBs: gpu.memoryBandwidthGBs,
            mapping: `none: the host's nvidia ${driverVersion} drives it, its device nodes go to CT ${guest.vmid}`,
        };
        this.container = this.lxc(name, args);
        this.vmId = this.container.vmId.apply((id) => id ?? guest.vmid);
        this.address = pulumi.output<string | undefined>(guest.network.address?.ip);
        this.firewall = new GuestFirewall(
            `${name}-firewall`,
            guestFirewallArgs({ containerId: this.vmId }, { ...guest, address: guest.network.address?.ip }, args),
            { parent: this },
        );
        this.start = this.startCommand(name, args, driverVersion);
        this.setup = this.setupCommand(name, args, driverVersion);
        this.ready = this.setup ?? this.start;
        this.registerOutputs({ vmId: this.vmId, address: this.address, gpu: this.gpu });
    }

    /** On the node, as root: the card's device nodes, the pinning and the start, after the firewall. */
    private startCommand(name: string, args: GpuContainerArgs, driverVersion: string): command.remote.Command {
        const { guest } = args;
        const gpu = { name: this.gpu?.name ?? "", pciAddress: this.gpu?.pciAddress ?? "" };
        const devices = "/dev/nvidia<minor> nvidiactl nvidia-uvm nvidia-uvm-tools nvidia-caps/*";
        return describe(
            args.host.ready
                ? `CT ${guest.vmid}: device passthrough of ${gpu.name} (${gpu.pciAddress}: ${devices}, pct set as root), pinned to ${formatCpuset(guest.cpus)}, started once its firewall is in place`
                : `CT ${guest.vmid}: waits for the node's reboot (${gpu.name} moves to the host's nvidia driver); nothing passed through or started`,
            new command.remote.Command(
                `${name}-start`,
                {
                    connection: args.host.connection,
                    create: "bash -s",
                    update: "bash -s",
                    stdin: renderDevicesScript({
                        vmid: guest.vmid,
                        gpu,
                        driverVersion,
                        cpus: guest.cpus,
                        ready: args.host.ready,
                    }),
                    logging: "stdoutAndStderr",
                },
                { parent: this, dependsOn: [this.container, this.firewall] },
            ),
        );
    }

    /** In the container, as root, once it runs: absent while the node waits for its reboot. */
    private setupCommand(
        name: string,
        args: GpuContainerArgs,
        driverVersion: string,
    ): command.remote.Command | undefined {
        const { guest } = args;
        const address = guest.network.address?.ip;
        if (!args.host.ready || address === undefined) return undefined;
        return scriptCommand(
            `${name}-setup`,
            `installs NVIDIA's ${driverVersion} userspace without its kernel module, the container toolkit (no-cgroups, for an unprivileged LXC), Docker and user ${guest.cloudInit.user}`,
            {
                connection: rootSsh(address, args.sshPrivateKey),
                stdin: renderSetupScript({
                    driverVersion,
                    user: guest.cloudInit.user,
                    sshPublicKeys: guest.cloudInit.sshPublicKeys,
                    timezone: guest.cloudInit.timezone,
                }),
                secret: false,
            },
            { parent: this, dependsOn: [this.start] },
        );
    }

    /** Unprivileged, nesting on (Docker), created stopped; the devices come from the start command. */
    private lxc(name: string, args: GpuContainerArgs): proxmoxve.ContainerLegacy {
        const { guest, environment: env } = args;
        return new proxmoxve.ContainerLegacy(
            name,
            {
                nodeName: guest.node,
                vmId: guest.vmid,
                poolId: args.poolId,
                description: guest.description ?? `ai-dualstack ${env} GPU container (${guest.gpu?.model ?? ""})`,
                tags: gpuContainerTags(env),
                unprivileged: true,
                // Docker inside: its containers need their own mount namespaces (and Proxmox warns for
                // a systemd 252+ guest without nesting: pve-container, check_systemd_nesting).
                features: { nesting: true },
                cpu: { cores: guest.cores },
                memory: { dedicated: Math.round(guest.memoryGiB * 1024), swap: 0 },
                disk: { datastoreId: args.storageId, size: guest.disk.sizeGiB },
                operatingSystem: { templateFileId: args.templateFileId, type: "debian" },
                networkInterfaces: [
                    {
                        name: "eth0",
                        bridge: args.bridge,
                        firewall: true,
                        ...(guest.network.macAddress ? { macAddress: guest.network.macAddress } : {}),
                    },
                ],
                initialization: {
                    hostname: name,
                    ipConfigs: [{ ipv4: guestIpv4(guest.network, args.gateway) }],
                    ...(args.dns.length > 0 ? { dns: { servers: [...args.dns] } } : {}),
                    userAccount: { keys: [...guest.cloudInit.sshPublicKeys] },
                },
                startOnBoot: guest.startOnBoot,
                started: false,
            },
            {
                parent: this,
                protect: guest.protect,
                dependsOn: args.dependsOn,
                ignoreChanges: [
                    "operatingSystem.templateFileId",
                    "initialization.userAccount",
                    "started",
                    // Set by the start command as root (only root@pam may); the token could not undo it.
                    "devicePassthroughs",
                ],
            },
        );
    }
}
