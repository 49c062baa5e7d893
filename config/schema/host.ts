// Shared host facts (Pulumi.yaml): the Proxmox API, the nodes with their CPUs, RAM, GPUs, mirrors and
// bridges, and the two environments' id ranges and networks.

import { z } from "zod";
import {
    DEFAULT_PVE_MAJOR,
    cidr,
    cpuset,
    d,
    environment,
    gib,
    hostAddress,
    ipv4,
    label,
    GPU_GUEST_KINDS,
    pciAddress,
    vendorDeviceId,
    vmid,
    flag,
} from "./fields";

export const ProxmoxSchema = z
    .strictObject({
        endpoint: z
            .url({
                protocol: /^https$/,
                message: 'must be the https URL of the Proxmox API, such as "https://192.168.1.10:8006/"',
            })
            .meta(d('The Proxmox VE API, such as "https://192.168.1.10:8006/".')),
        insecure: flag(false, "Skip TLS verification. Turn it on only for a self-signed certificate you accept."),
        filesDatastore: z
            .string()
            .default("local")
            .meta(d("Directory datastore for cloud images, container templates and cloud-init snippets.")),
        enableDatacenterFirewall: flag(
            true,
            "Turn the datacenter firewall on: guest firewalls act only with it on. Never turned off again.",
        ),
        // The privileges a role may name differ by major version: PVE 9 dropped VM.Monitor for
        // VM.GuestAgent.* (pve-access-control src/PVE/AccessControl.pm), so the managed role and the
        // documented one are built from it; the host check refuses a node of another major version.
        majorVersion: z
            .union([z.literal(8), z.literal(9)], { message: "must be 8 or 9 (the major of `pveversion` on the node)" })
            .default(DEFAULT_PVE_MAJOR)
            .meta(
                d(
                    "The nodes' Proxmox VE major version, 8 (8.4) or 9: the API privileges and the containers' default template (Debian 12 on 8, 13 on 9) are built from it, and the host check refuses a node whose `pveversion` says another.",
                ),
            ),
        apiAccess: z
            .enum(["external", "managed"])
            .default("external")
            .meta(
                d(
                    'Who makes the API identity. "external": you created the user and token (docs/deploying.md, step 1). "managed": each stack creates its role of only the privileges it uses, a user aids-<env>@pve and a privilege-separated token, whose secret is the stack output access.apiToken (the first run needs an admin token).',
                ),
            ),
        previewAccess: flag(
            true,
            "Create each stack's read-only credentials for previews and drift checks: an SSH key that root's authorized_keys on each node restricts to the read-only host check (restrict,command=), and a user aids-<env>-preview@pve whose privilege-separated token holds PVEAuditor on / (made by the stack that creates the monitoring identity; the other stack's by hand, docs/cicd-runner.md). Both are the secret stack output preview.",
        ),
        managementSources: z
            .array(cidr)
            .default([])
            .meta(
                d(
                    "Networks besides the node's own LAN (a VPN) that keep GUI and SSH access when the datacenter firewall goes on; added to its management IPSet first.",
                ),
            ),
    })
    .meta(d("The Proxmox API and cluster-wide choices."));

const allocation = z
    .strictObject({
        cpuset: cpuset.meta(d("Host CPUs the environment's guests may use; VM pinning stays inside it.")),
        memoryGiB: gib.meta(d("RAM the environment may use on the node, its hugepages included.")),
        hugepagesGiB: z
            .number()
            .min(0)
            .default(0)
            .meta(d("Part of memoryGiB reserved as hugepages at boot for the environment's VMs.")),
    })
    .optional()
    .meta(d("The environment's share of the node; leave it out where the environment has no guests."));

// Proxmox compares a PCI mapping with sysfs when a VM using it starts, subsystem id included
// whenever sysfs has one (pve-guest-common src/PVE/Mapping/PCI.pm, assert_valid: "no
// 'subsystem-id' for device"), and every real GPU has one; so the id is required, never guessed.
const subsystemId = z
    .string({ message: 'copy the id from the "Subsystem: ... [vvvv:dddd]" line of `lspci -nnv -s <address>`' })
    .regex(
        /^[0-9a-f]{4}:[0-9a-f]{4}$/,
        'must be the subsystem vendor:device in lowercase hex such as "1458:416f" (the "Subsystem: ... [vvvv:dddd]" line of `lspci -nnv -s <address>`)',
    );

export const GpuSchema = z.strictObject({
    model: z
        .string()
        .min(1, 'must name the card, such as "NVIDIA GeForce RTX 5090"')
        .meta(d("The card, for outputs and messages.")),
    environment: environment.meta(d("The one environment that may pass this GPU through.")),
    pciAddress: pciAddress.meta(d('Full PCI address of function 0, such as "0000:01:00.0" (`lspci -D`).')),
    vendorDeviceId: vendorDeviceId.meta(d('vendor:device id, such as "10de:2b85" (`lspci -nn`); vfio-pci claims it.')),
    subsystemId: subsystemId.meta(
        d(
            'The board\'s subsystem vendor:device id, such as "1458:416f" (a Gigabyte RTX 5090): the "Subsystem: ... [vvvv:dddd]" line of `lspci -nnv -s <address>`. Required: Proxmox refuses to start a VM whose PCI mapping lacks it.',
        ),
    ),
    iommuGroup: z
        .number()
        .int()
        .min(0, "must be the group number from /sys/kernel/iommu_groups")
        .meta(d("IOMMU group (`find /sys/kernel/iommu_groups/ -type l`); checked on the host.")),
    vramGiB: gib.meta(d("Video memory.")),
    memoryBandwidthGBs: z
        .number()
        .positive("must be more than 0 GB/s")
        .meta(d("Memory bandwidth in GB/s, for the throughput gate's roofline.")),
    functions: z
        .array(
            z.strictObject({
                pciAddress: pciAddress.meta(d("Address of the function.")),
                vendorDeviceId: vendorDeviceId.meta(d("Its vendor:device id.")),
                subsystemId: subsystemId.meta(
                    d(
                        'Its subsystem vendor:device id (the "Subsystem: ... [vvvv:dddd]" line of `lspci -nnv -s <address>`); the host check compares it with sysfs.',
                    ),
                ),
            }),
        )
        .default([])
        .meta(d("The card's other functions (HDMI audio, USB-C); they go with it to the VM and to vfio-pci.")),
    guest: z
        .enum(GPU_GUEST_KINDS, { message: 'must be "vm" or "container"' })
        .default("vm")
        .meta(
            d(
                'Which kind of guest takes the card. "vm" (the default): vfio-pci claims it at boot and a VM gets the whole card by PCI mapping; the VM\'s own kernel drives it. "container": the host\'s NVIDIA driver (nodes.<node>.nvidiaDriver) drives it and an unprivileged LXC gets its device nodes; lighter and without vfio resets, but the guest shares the host\'s kernel (docs/deploying.md, "A VM or a container"). Host-wide: both stacks write the vfio ids and the driver from it, and a change is one reboot.',
            ),
        ),
});

export const MirrorSchema = z.strictObject({
    environment: environment.meta(d("The environment that owns the mirror.")),
    pool: z
        .string()
        .regex(/^[a-zA-Z][a-zA-Z0-9_./-]*$/, "must be a ZFS pool name: a letter, then letters, digits, '_', '.', '-'")
        .meta(d("ZFS pool (or existing pool/dataset) name.")),
    disks: z
        .array(z.string().regex(/^\/dev\/\S+$/, "must be a device path under /dev/ (prefer /dev/disk/by-id/...)"))
        .min(2, "a mirror needs at least two disks")
        .optional()
        .meta(d("Two or more whole disks, /dev/disk/by-id/... preferred. Leave out to register an existing pool.")),
    ashift: z.number().int().min(9).max(16).default(12).meta(d("Sector size exponent; 12 (4 KiB) suits NVMe.")),
    compression: z
        .enum(["on", "off", "lz4", "zstd", "gzip", "lzjb", "zle"])
        .default("lz4")
        .meta(d("Pool compression.")),
    sizeGiB: gib.meta(d("Usable capacity (the smallest disk, less ZFS overhead), for the disks-fit check.")),
});

export const BridgeSchema = z.strictObject({
    environment: environment.meta(d("The environment that owns the bridge; only its guests may sit on it.")),
    uplink: z
        .string()
        .regex(/^[a-z][a-z0-9]{1,14}$/, 'must be an interface name such as "enp5s0"')
        .optional()
        .meta(d("Physical interface; leave out for a host-internal bridge.")),
    vlan: z
        .number()
        .int()
        .min(2, "VLAN ids run 2-4094 (1 is the untagged default)")
        .max(4094, "VLAN ids run 2-4094")
        .optional()
        .meta(d("802.1Q tag: the bridge's port is a Linux VLAN interface <uplink>.<vlan>.")),
    mtu: z.number().int().min(576).max(9000).optional().meta(d("MTU of the bridge.")),
    comment: z.string().optional().meta(d("Shown in the Proxmox network view.")),
});

export const NodeSchema = z.strictObject({
    address: hostAddress.meta(d("SSH address of the node: host bootstrap and snippet uploads.")),
    sshPort: z.number().int().min(1).max(65535).default(22).meta(d("SSH port.")),
    sshUser: z.string().min(1).default("root").meta(d("SSH user; needs root rights on the node.")),
    sshHostKey: z
        .string()
        .optional()
        .meta(d('Pin the node\'s host key ("ssh-ed25519 AAAA...", as ssh-keyscan prints it, without the host name).')),
    managementBridge: z
        .string()
        .default("vmbr0")
        .meta(d("The bridge that carries your link to the host; these stacks never touch it.")),
    cpu: z
        .strictObject({
            vendor: z
                .enum(["intel", "amd"], { message: 'must be "intel" or "amd" (it picks the IOMMU kernel argument)' })
                .meta(d("Picks the IOMMU kernel argument.")),
            model: z.string().min(1).meta(d("The CPU, for the record.")),
            threads: z.number().int().positive().meta(d("Logical CPUs of the node (`nproc`).")),
            hostReservedCpus: z
                .number()
                .int()
                .min(1, "leave at least one CPU to the host")
                .default(2)
                .meta(d("CPUs no environment may claim, left to Proxmox.")),
            topology: z
                .strictObject({
                    performance: cpuset.meta(
                        d('The performance cores (P-cores), such as "0-7" on a Core Ultra 9 285K.'),
                    ),
                    efficiencyClusters: z
                        .array(cpuset)
                        .default([])
                        .meta(
                            d(
                                'The efficiency cores (E-cores), one CPU set per cluster of cores that share an L2 cache, such as ["8-11", "12-15", "16-19", "20-23"].',
                            ),
                        ),
                })
                .optional()
                .meta(
                    d(
                        "The core types of a hybrid CPU (`lscpu -e` shows MAXMHZ per core; `/sys/devices/system/cpu/cpu*/cache/index2/shared_cpu_list` the L2 clusters). With it, a VM's pinning is all P-cores or whole E-core clusters.",
                    ),
                ),
        })
        .meta(d("The node's processor.")),
    memory: z
        .strictObject({
            totalGiB: gib.meta(
                d(
                    "RAM as the kernel reports it, not as installed: MemTotal of `grep MemTotal /proc/meminfo` in GiB (kB / 1048576, rounded down), about 125 on a 128 GB machine. The hugepages reserved at boot are part of it. The host check reads MemTotal on the node and refuses less, naming the first guest that does not fit what the measured figure leaves.",
                ),
            ),
            hostReservedGiB: gib
                .default(4)
                .meta(
                    d(
                        "RAM kept for Proxmox VE itself beside the ZFS ARC: its services, the kernel and page cache (Proxmox asks for at least 2 GiB for the OS and its services).",
                    ),
                ),
            zfsArcMaxGiB: gib
                .optional()
                .meta(
                    d(
                        "Cap for the ZFS ARC, set by the bootstrap and counted beside hostReservedGiB. Left out, the cap Proxmox VE 8.1+ installs is assumed (10% of RAM, at most 16 GiB), and the host check refuses a node whose ARC may grow larger.",
                    ),
                ),
            vmOverheadGiB: z
                .number()
                .min(0)
                .default(1)
                .meta(
                    d(
                        "Host RAM each VM's QEMU process takes beyond the guest's RAM (device emulation, vCPU threads, the VFIO mappings); it comes out of the environment's memoryGiB beside the hugepages.",
                    ),
                ),
            hugepageSize: z.enum(["2M", "1G"]).default("1G").meta(d("Hugepage size for the VMs' RAM.")),
        })
        .meta(d("The node's RAM and how the host keeps its share.")),
    allocations: z
        .strictObject({ private: allocation, public: allocation })
        .meta(d("CPUs and RAM per environment on this node; they may not overlap, and must leave the host its share.")),
    gpus: z
        .record(label, GpuSchema)
        .default({})
        .meta(d("GPUs to pass through, keyed by name (unique in the cluster); each owned by one environment.")),
    nvidiaDriver: z
        .strictObject({
            version: z
                .string()
                .regex(
                    /^\d{3}\.\d{1,3}(\.\d{1,3})?$/,
                    'must be a full NVIDIA driver version such as "550.163.01" (`apt-cache policy nvidia-kernel-dkms` on the node)',
                )
                .meta(
                    d(
                        "The exact driver version, such as \"550.163.01\": the bootstrap pins the node's packages to it, and every GPU container on the node gets the same version's userspace (the kernel module and its userspace must match). Its branch (the first number) must support each card with guest: container.",
                    ),
                ),
        })
        .optional()
        .meta(
            d(
                "The host's NVIDIA driver, for the cards with guest: container: installed by the bootstrap through the node's package manager (Debian's own packages from contrib, non-free and non-free-firmware: the open kernel modules built by DKMS; Debian 13 has 550.163.01), loaded after vfio-pci so that the VMs' cards stay on vfio-pci. Leave it out when every card goes to a VM.",
            ),
        ),
    mirrors: z
        .record(
            z.string().regex(/^[a-z][a-z0-9_-]*$/, "storage ids are lowercase letters, digits, '-', '_'"),
            MirrorSchema,
        )
        .default({})
        .meta(d("NVMe ZFS mirrors, keyed by Proxmox storage id (unique in the cluster).")),
    bridges: z
        .record(z.string().regex(/^vmbr\d{1,4}$/, 'Proxmox bridges are named vmbrN, such as "vmbr1"'), BridgeSchema)
        .default({})
        .meta(d("Linux bridges, keyed by name (vmbrN); each owned by one environment.")),
});

export const EnvironmentSchema = z.strictObject({
    vmids: z
        .strictObject({
            first: vmid.meta(d("First guest id.")),
            last: vmid.meta(d("Last guest id.")),
        })
        .meta(d("The guest ids the environment may use; the two ranges may not overlap.")),
    network: z
        .strictObject({
            cidr: cidr.meta(d("The environment's subnet; the two subnets may not overlap.")),
            gateway: ipv4.meta(d("Its router.")),
            dns: z.array(ipv4).default([]).meta(d("DNS servers handed to the guests.")),
            trustedSources: z
                .array(cidr)
                .min(1, "name at least one network (your LAN or VPN)")
                .meta(
                    d(
                        "Private: the LAN and VPN networks that may reach its guests (nothing else from outside may). Public: the networks that may administer its guests (SSH, ping) and use the proxy's trusted-only routes. Neither may be wider than a /8.",
                    ),
                ),
        })
        .meta(d("The environment's layer 3.")),
});

export type ProxmoxConfig = z.infer<typeof ProxmoxSchema>;
export type NodeConfig = z.infer<typeof NodeSchema>;
export type GpuConfig = z.infer<typeof GpuSchema>;
export type MirrorConfig = z.infer<typeof MirrorSchema>;
export type BridgeConfig = z.infer<typeof BridgeSchema>;
export type EnvironmentConfig = z.infer<typeof EnvironmentSchema>;
