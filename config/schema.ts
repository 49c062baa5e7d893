// The one strict schema for a stack's configuration (project namespace `ai-dualstack`).
// Shape and defaults live here; rules that span fields live in validate.ts.

import { z } from "zod";
import { CPUSET_PATTERN } from "./cpuset";

export const ENVIRONMENTS = ["private", "public"] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

export const LXC_ROLES = ["postgresql", "redis", "security", "cicd", "monitoring", "backup"] as const;
export type LxcRole = (typeof LXC_ROLES)[number];

/** Default guest images: Ubuntu 24.04 for the GPU VMs, Debian 12 for the service containers. */
export const DEFAULT_VM_IMAGE_URL = "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img";
export const DEFAULT_LXC_TEMPLATE_URL =
    "http://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst";

// ---- scalar shapes, each with the message a user needs to fix it ----

const environment = z.enum(ENVIRONMENTS, { message: 'must be "private" or "public"' });

/** Guest, node and GPU names become hostnames and resource names: DNS labels. */
const label = z
    .string()
    .regex(
        /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/,
        "must be a lowercase DNS label: letters, digits and '-', such as \"private-ai\"",
    );

const pciAddress = z
    .string()
    .regex(
        /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/,
        'must be a full lowercase PCI address such as "0000:01:00.0" (read it with `lspci -D`)',
    );

const vendorDeviceId = z
    .string()
    .regex(
        /^[0-9a-f]{4}:[0-9a-f]{4}$/,
        'must be vendor:device in lowercase hex such as "10de:2b85" (read it with `lspci -nn -s <address>`)',
    );

const cpuset = z.string().regex(CPUSET_PATTERN, 'must be a CPU set such as "4-11" or "0-3,8"');

const cidr = z.cidrv4({ message: 'must be an IPv4 network in CIDR form such as "10.10.10.0/24"' });
const ipv4 = z.ipv4({ message: 'must be an IPv4 address such as "10.10.10.1"' });
const hostAddress = z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, "must be an IP address or a host name that resolves to the node");

const vmid = z
    .number({ message: "must be a number" })
    .int("must be a whole number")
    .min(100, "Proxmox guest ids start at 100")
    .max(999_999_999, "Proxmox guest ids end at 999999999");

const gib = z.number({ message: "must be a number of GiB" }).positive("must be more than 0 GiB");

const sshPublicKey = z
    .string()
    .regex(
        /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/,
        'must be one OpenSSH public key line, such as "ssh-ed25519 AAAA... you@laptop"',
    );

const inboundRule = z.strictObject({
    /** Destination port(s): "443", "80,443" or a range "8000:8010". */
    port: z.string().regex(/^\d{1,5}([:,]\d{1,5})*$/, 'must be a port, a list "80,443" or a range "8000:8010"'),
    proto: z.enum(["tcp", "udp"]).default("tcp"),
    /** Who may connect: a CIDR, or "any". Private guests only accept their environment's trusted sources. */
    source: z.union([z.literal("any"), cidr]).default("any"),
    comment: z.string().optional(),
});

const guestFirewall = z
    .strictObject({
        /** Extra inbound rules on top of the environment baseline (inbound is denied by default). */
        inbound: z.array(inboundRule).default([]),
    })
    .default({ inbound: [] });

const guestNetwork = z.strictObject({
    /** A bridge that the guest's environment owns on the guest's node. */
    bridge: z.string(),
    /** Static address with prefix ("10.10.10.20/24"), or "dhcp". */
    address: z.union([z.literal("dhcp"), cidr]),
    /** Optional fixed MAC address, handy for DHCP reservations. */
    macAddress: z
        .string()
        .regex(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/, 'must be an uppercase MAC such as "BC:24:11:00:00:01"')
        .optional(),
});

const guestDisk = z.strictObject({
    /** A storage id (a mirror key under nodes.<node>.mirrors) owned by the guest's environment. */
    storage: z.string(),
    sizeGiB: z.number().int("must be a whole number of GiB").positive("must be more than 0 GiB"),
});

// ---- shared host facts (Pulumi.yaml) ----

export const ProxmoxSchema = z.strictObject({
    /** The Proxmox VE API, e.g. "https://192.168.1.10:8006/". */
    endpoint: z.url({
        protocol: /^https$/,
        message: 'must be the https URL of the Proxmox API, such as "https://192.168.1.10:8006/"',
    }),
    /** Skip TLS verification. Off by default; turn it on only for a self-signed certificate you trust. */
    insecure: z.boolean().default(false),
    /** Datastore that holds downloaded images, container templates and cloud-init snippets. */
    filesDatastore: z.string().default("local"),
    /** Turn the datacenter firewall on (it must be on for guest firewalls to act). Never turned off again. */
    enableDatacenterFirewall: z.boolean().default(true),
});

const allocation = z.strictObject({
    /** Host CPUs this environment's guests may use; VM pinning must stay inside it. */
    cpuset,
    /** RAM this environment may use on the node, hugepages included. */
    memoryGiB: gib,
    /** Part of memoryGiB reserved as hugepages at boot for the environment's VMs. */
    hugepagesGiB: z.number().min(0).default(0),
});

export const GpuSchema = z.strictObject({
    model: z.string().min(1, 'must name the card, such as "NVIDIA GeForce RTX 5090"'),
    /** The one environment that may pass this GPU through. */
    environment,
    pciAddress,
    vendorDeviceId,
    /** Optional subsystem id (vendor:device) for the PCI mapping. */
    subsystemId: vendorDeviceId.optional(),
    iommuGroup: z.number().int().min(0, "must be the group number from /sys/kernel/iommu_groups"),
    vramGiB: gib,
    /** Memory bandwidth in GB/s; the throughput gate's roofline uses it. */
    memoryBandwidthGBs: z.number().positive("must be more than 0 GB/s"),
    /** The card's other functions (HDMI audio, USB-C) that go with it to the VM and to vfio-pci. */
    functions: z.array(z.strictObject({ pciAddress, vendorDeviceId })).default([]),
});

export const MirrorSchema = z.strictObject({
    environment,
    /** ZFS pool name. */
    pool: z
        .string()
        .regex(/^[a-zA-Z][a-zA-Z0-9_.-]*$/, "must be a ZFS pool name: a letter, then letters, digits, '_', '.', '-'"),
    /** Two or more whole disks (prefer /dev/disk/by-id/... paths). Leave out to register an existing pool. */
    disks: z
        .array(z.string().regex(/^\/dev\/\S+$/, "must be a device path under /dev/ (prefer /dev/disk/by-id/...)"))
        .min(2, "a mirror needs at least two disks")
        .optional(),
    ashift: z.number().int().min(9).max(16).default(12),
    compression: z.enum(["on", "off", "lz4", "zstd", "gzip", "lzjb", "zle"]).default("lz4"),
    /** Usable capacity of the mirror (the smallest disk), for the disks-fit check. */
    sizeGiB: gib,
});

export const BridgeSchema = z.strictObject({
    environment,
    /** Physical uplink (an interface name such as "enp5s0"); leave out for a host-internal bridge. */
    uplink: z
        .string()
        .regex(/^[a-z][a-z0-9]{1,14}$/, 'must be an interface name such as "enp5s0"')
        .optional(),
    /** 802.1Q tag: traffic leaves the uplink tagged with it through a Linux VLAN interface. */
    vlan: z
        .number()
        .int()
        .min(2, "VLAN ids run 2-4094 (1 is the untagged default)")
        .max(4094, "VLAN ids run 2-4094")
        .optional(),
    mtu: z.number().int().min(576).max(9000).optional(),
    comment: z.string().optional(),
});

export const NodeSchema = z.strictObject({
    /** SSH address of the node (host bootstrap and snippet uploads). */
    address: hostAddress,
    sshPort: z.number().int().min(1).max(65535).default(22),
    sshUser: z.string().min(1).default("root"),
    /** Pin the node's SSH host key ("ssh-ed25519 AAAA..."), as ssh-keyscan prints it without the host name. */
    sshHostKey: z.string().optional(),
    /** The bridge that carries the management link; these stacks never touch it. */
    managementBridge: z.string().default("vmbr0"),
    cpu: z.strictObject({
        vendor: z.enum(["intel", "amd"], { message: 'must be "intel" or "amd" (it picks the IOMMU kernel argument)' }),
        model: z.string().min(1),
        /** Logical CPUs the node has (`nproc`). */
        threads: z.number().int().positive(),
        /** CPUs that no environment may claim, left to Proxmox itself. */
        hostReservedCpus: z.number().int().min(1, "leave at least one CPU to the host").default(2),
    }),
    memory: z.strictObject({
        totalGiB: gib,
        /** RAM left to Proxmox, ZFS ARC and page cache. */
        hostReservedGiB: gib.default(8),
        /** Cap for the ZFS ARC, written to /etc/modprobe.d by the host bootstrap. */
        zfsArcMaxGiB: gib.optional(),
        hugepageSize: z.enum(["2M", "1G"]).default("1G"),
    }),
    allocations: z.strictObject({ private: allocation.optional(), public: allocation.optional() }),
    gpus: z.record(label, GpuSchema).default({}),
    /** Keyed by Proxmox storage id. */
    mirrors: z
        .record(
            z.string().regex(/^[a-z][a-z0-9_-]*$/, "storage ids are lowercase letters, digits, '-', '_'"),
            MirrorSchema,
        )
        .default({}),
    /** Keyed by bridge name (vmbrN). */
    bridges: z
        .record(z.string().regex(/^vmbr\d{1,4}$/, 'Proxmox bridges are named vmbrN, such as "vmbr1"'), BridgeSchema)
        .default({}),
});

export const EnvironmentSchema = z.strictObject({
    /** The guest ids this environment may use. */
    vmids: z.strictObject({ first: vmid, last: vmid }),
    network: z.strictObject({
        cidr,
        gateway: ipv4,
        dns: z.array(ipv4).default([]),
        /**
         * Private: the LAN and VPN networks that may reach its guests (and nothing else may).
         * Public: the networks that may administer its guests over SSH.
         */
        trustedSources: z.array(cidr).min(1, "name at least one network (your LAN or VPN)"),
    }),
});

// ---- per-stack guests (Pulumi.<stack>.yaml) ----

export const VmSchema = z.strictObject({
    vmid,
    node: z.string(),
    description: z.string().optional(),
    /** A GPU (a key under nodes.<node>.gpus) owned by this environment; leave out for a VM without one. */
    gpu: z.string().optional(),
    cores: z.number().int().positive(),
    /** Host CPUs the VM is pinned to; inside the environment's allocation, at least `cores` of them. */
    cpuset,
    memoryGiB: gib,
    /** Back the VM's RAM with the environment's hugepages. */
    hugepages: z.boolean().default(true),
    disk: guestDisk,
    network: guestNetwork,
    image: z
        .strictObject({
            url: z.url({ protocol: /^https?$/ }),
            /** sha256 of the image; without it the download is not verified. */
            sha256: z
                .string()
                .regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256")
                .optional(),
        })
        .default({ url: DEFAULT_VM_IMAGE_URL }),
    cloudInit: z.strictObject({
        user: z
            .string()
            .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Linux user name")
            .default("ubuntu"),
        sshPublicKeys: z.array(sshPublicKey).min(1, "add at least one key, or you cannot log in"),
        /** NVIDIA driver branch for Ubuntu's packages; Blackwell (RTX 50) needs 570 or newer. */
        nvidiaDriverBranch: z
            .string()
            .regex(/^\d{3}$/, 'must be a driver branch such as "570"')
            .default("570"),
        timezone: z.string().default("Etc/UTC"),
    }),
    firewall: guestFirewall,
    /** Pulumi `protect`: a destroy or a replacing diff stops instead of deleting the VM. */
    protect: z.boolean().default(true),
    startOnBoot: z.boolean().default(true),
});

export const LxcSchema = z.strictObject({
    vmid,
    node: z.string(),
    role: z.enum(LXC_ROLES, { message: `must be one of ${LXC_ROLES.join(", ")}` }),
    description: z.string().optional(),
    /** Defaults per role (see components/serviceLxc.ts). */
    cores: z.number().int().positive().optional(),
    memoryGiB: gib.optional(),
    disk: z.strictObject({ storage: z.string(), sizeGiB: z.number().int().positive().optional() }),
    network: guestNetwork,
    template: z
        .strictObject({
            url: z.url({ protocol: /^https?$/ }),
            sha256: z
                .string()
                .regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256")
                .optional(),
        })
        .default({ url: DEFAULT_LXC_TEMPLATE_URL }),
    sshPublicKeys: z.array(sshPublicKey).min(1, "add at least one key, or you cannot log in"),
    /** Override the role's nesting default (only CI/CD, which runs containers, needs it). */
    nesting: z.boolean().optional(),
    firewall: guestFirewall,
    protect: z.boolean().optional(),
    startOnBoot: z.boolean().default(true),
});

/** Every key in the `ai-dualstack` namespace except the two secrets, which load.ts reads as secrets. */
export const StackConfigSchema = z.strictObject({
    /** Which environment this stack builds; empty or absent means the stack name. */
    environment: z.preprocess((v) => (v === "" ? undefined : v), environment.optional()),
    proxmox: ProxmoxSchema,
    nodes: z
        .record(label, NodeSchema)
        .refine((nodes) => Object.keys(nodes).length > 0, "describe at least one Proxmox node"),
    environments: z.strictObject({ private: EnvironmentSchema, public: EnvironmentSchema }),
    vms: z.record(label, VmSchema).default({}),
    containers: z.record(label, LxcSchema).default({}),
});

export type ProxmoxConfig = z.infer<typeof ProxmoxSchema>;
export type NodeConfig = z.infer<typeof NodeSchema>;
export type GpuConfig = z.infer<typeof GpuSchema>;
export type MirrorConfig = z.infer<typeof MirrorSchema>;
export type BridgeConfig = z.infer<typeof BridgeSchema>;
export type EnvironmentConfig = z.infer<typeof EnvironmentSchema>;
export type VmConfig = z.infer<typeof VmSchema>;
export type LxcConfig = z.infer<typeof LxcSchema>;
export type InboundRule = z.infer<typeof inboundRule>;
export type GuestNetworkConfig = z.infer<typeof guestNetwork>;
export type ParsedConfig = z.infer<typeof StackConfigSchema>;

/** The top-level keys and where a user edits them: shared host facts or the stack's own file. */
export const CONFIG_KEYS = {
    environment: "stack",
    proxmox: "project",
    nodes: "project",
    environments: "project",
    vms: "stack",
    containers: "stack",
    proxmoxApiToken: "secret",
    sshPrivateKey: "secret",
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;
