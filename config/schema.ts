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

const d = (text: string) => ({ description: text });

const inboundRule = z.strictObject({
    port: z
        .string()
        .regex(/^\d{1,5}([:,]\d{1,5})*$/, 'must be a port, a list "80,443" or a range "8000:8010"')
        .meta(d('Destination port(s): "443", "80,443" or a range "8000:8010".')),
    proto: z.enum(["tcp", "udp"]).default("tcp").meta(d("Protocol.")),
    source: z
        .union([z.literal("any"), cidr])
        .default("any")
        .meta(d('Who may connect: a CIDR, or "any". Private guests accept only their trustedSources.')),
    comment: z.string().optional().meta(d("Shown in the Proxmox firewall.")),
});

const guestFirewall = z
    .strictObject({
        inbound: z
            .array(inboundRule)
            .default([])
            .meta(d("Inbound rules on top of the environment baseline; everything else inbound is dropped.")),
    })
    .default({ inbound: [] })
    .meta(d("The guest's own firewall: inbound DROP, the environment's baseline group, then these rules."));

const guestNetwork = z
    .strictObject({
        bridge: z.string().meta(d("A bridge (nodes.<node>.bridges key) that the guest's environment owns.")),
        address: z
            .union([z.literal("dhcp"), cidr])
            .meta(d('Static address with the environment\'s prefix ("10.10.10.20/24"), or "dhcp".')),
        macAddress: z
            .string()
            .regex(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/, 'must be an uppercase MAC such as "BC:24:11:00:00:01"')
            .optional()
            .meta(d("Fixed MAC address, handy for DHCP reservations.")),
    })
    .meta(d("The guest's one network interface."));

const guestDisk = z
    .strictObject({
        storage: z.string().meta(d("A mirror (nodes.<node>.mirrors key) that the guest's environment owns.")),
        sizeGiB: z
            .number()
            .int("must be a whole number of GiB")
            .positive("must be more than 0 GiB")
            .meta(d("Disk size.")),
    })
    .meta(d("The system disk."));

const imageSource = (defaultUrl: string, what: string) =>
    z
        .strictObject({
            url: z.url({ protocol: /^https?$/ }).meta(d(`Where to download the ${what} from.`)),
            sha256: z
                .string()
                .regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256")
                .optional()
                .meta(d("Checksum; without it the download is not verified.")),
        })
        .default({ url: defaultUrl })
        .meta(d(`The ${what}; downloaded once per environment and node.`));

// ---- the containers of a GPU VM (vms.<name>.services), deployed by components/workload.ts ----

/** A reference image name with a pinned tag and/or digest; `:latest` and bare names are refused. */
export const PINNED_IMAGE =
    /^(?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$/;

const port = z.number().int().min(1, "ports run 1-65535").max(65535, "ports run 1-65535");
const envName = z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name such as OLLAMA_HOST");
const serviceRef = z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must name a service of this VM (a key of vms.<vm>.services), such as "ollama"');
const seconds = (what: string, fallback: number) =>
    z.number().int().positive("must be more than 0 seconds").default(fallback).meta(d(what));

export const ServiceSchema = z.strictObject({
    image: z
        .string()
        .regex(
            PINNED_IMAGE,
            'must pin a tag or digest, never :latest, such as "ollama/ollama:0.11.4" or "caddy@sha256:<64 hex>"',
        )
        .meta(d("The image, pinned by tag or digest (`:latest` is refused).")),
    command: z.array(z.string()).optional().meta(d("Arguments replacing the image's CMD.")),
    environment: z
        .record(envName, z.string())
        .default({})
        .meta(d("Plain environment variables; they appear in the rendered compose file. No secrets here.")),
    secretEnvironment: z
        .record(envName, z.string().min(1))
        .default({})
        .meta(
            d(
                'Environment variables built from serviceSecrets: each value is a template such as "{{qdrantApiKey}}" or "postgresql://webui:{{postgresPassword}}@10.10.10.20/webui". They stay Pulumi secrets and go to an env file, never into the compose file.',
            ),
        ),
    ports: z
        .array(
            z.strictObject({
                published: port.meta(d("Port on the VM. Private: bound to the VM's address only.")),
                target: port.meta(d("Port inside the container.")),
                protocol: z.enum(["tcp", "udp"]).default("tcp").meta(d("Protocol.")),
            }),
        )
        .default([])
        .meta(d("Published ports. On public VMs only the proxy service may publish, and only 80 and 443.")),
    volumes: z
        .array(
            z.strictObject({
                source: z
                    .string()
                    .regex(
                        /^(\/[^\s:]*|[a-z][a-z0-9_-]*)$/,
                        'must be a volume name such as "models" or an absolute host path such as "/sys"',
                    )
                    .meta(
                        d(
                            "A named volume (created per VM, kept on destroy of the container) or an absolute host path.",
                        ),
                    ),
                target: z
                    .string()
                    .regex(/^\/\S*$/, "must be an absolute path in the container")
                    .meta(d("Mount point in the container.")),
                readOnly: z.boolean().default(false).meta(d("Mount read-only.")),
            }),
        )
        .default([])
        .meta(d("Mounts.")),
    files: z
        .array(
            z.strictObject({
                source: z
                    .string()
                    .regex(
                        /^services\/[A-Za-z0-9._/-]+$/,
                        'must be a file under services/ in this repository, such as "services/rag-ingest.py"',
                    )
                    .meta(d("A file of this repository, under services/.")),
                target: z
                    .string()
                    .regex(/^\/\S*$/, "must be an absolute path in the container")
                    .meta(d("Where it appears in the container.")),
            }),
        )
        .default([])
        .meta(
            d(
                "Files of this repository placed into the container (Docker uploads; inline configs in the compose file).",
            ),
        ),
    gpu: z
        .string()
        .optional()
        .meta(d("Reserve the VM's GPU (its nodes.<node>.gpus key, the same as vms.<vm>.gpu) for this container.")),
    healthcheck: z
        .strictObject({
            test: z
                .array(z.string())
                .min(2, 'must be ["CMD", ...] or ["CMD-SHELL", "..."]')
                .refine((t) => t[0] === "CMD" || t[0] === "CMD-SHELL", 'must start with "CMD" or "CMD-SHELL"')
                .meta(d('The probe: ["CMD", "ollama", "list"] or ["CMD-SHELL", "curl -f http://localhost/"].')),
            intervalSeconds: seconds("Time between probes.", 30),
            timeoutSeconds: seconds("How long one probe may take.", 10),
            retries: z.number().int().positive().default(3).meta(d("Failures before unhealthy.")),
            startPeriodSeconds: seconds("Grace period after start.", 30),
        })
        .meta(d("How Docker tells that the service works; every service needs one.")),
    restart: z
        .enum(["no", "always", "unless-stopped", "on-failure"])
        .default("unless-stopped")
        .meta(d("Restart policy.")),
    limits: z
        .strictObject({
            cpus: z.number().positive().optional().meta(d("CPUs the container may use.")),
            memoryGiB: z.number().positive().optional().meta(d("Memory limit.")),
        })
        .default({})
        .meta(d("Resource limits.")),
    dependsOn: z.array(serviceRef).default([]).meta(d("Services of this VM that must be healthy first.")),
    proxy: z
        .strictObject({
            acmeEmail: z.email("must be an e-mail address for Let's Encrypt").meta(d("Let's Encrypt account e-mail.")),
            rateLimit: z
                .strictObject({
                    average: z.number().int().positive().default(20).meta(d("Requests per second per client IP.")),
                    burst: z.number().int().positive().default(50).meta(d("Burst above the average.")),
                })
                .default({ average: 20, burst: 50 })
                .meta(d("Rate limit on every TLS route, per client IP.")),
            routes: z
                .array(
                    z.strictObject({
                        host: z
                            .string()
                            .regex(
                                /^[A-Za-z0-9.-]+$/,
                                'must be a host name such as "chat.example.com" or an IP address',
                            )
                            .meta(d("Host name (TLS via Let's Encrypt) or the VM's own address (plain HTTP).")),
                        pathPrefix: z
                            .string()
                            .regex(/^\/[A-Za-z0-9._/-]*$/, 'must start with "/"')
                            .optional()
                            .meta(d("Only this path (stripped before forwarding).")),
                        service: serviceRef.meta(d("The service it forwards to.")),
                        port: port.meta(d("The service's port inside the VM network.")),
                        tls: z
                            .boolean()
                            .default(true)
                            .meta(d("HTTPS on 443 with a Let's Encrypt certificate; false serves plain HTTP on 80.")),
                        trustedOnly: z
                            .boolean()
                            .default(false)
                            .meta(d("Only environments.<env>.network.trustedSources may use it; others get 403.")),
                    }),
                )
                .min(1, "add at least one route")
                .meta(d("What the proxy forwards.")),
        })
        .optional()
        .meta(d("Makes this service the VM's reverse proxy (Traefik): TLS, rate limiting, routes.")),
});

// ---- shared host facts (Pulumi.yaml) ----

export const ProxmoxSchema = z
    .strictObject({
        endpoint: z
            .url({
                protocol: /^https$/,
                message: 'must be the https URL of the Proxmox API, such as "https://192.168.1.10:8006/"',
            })
            .meta(d('The Proxmox VE API, such as "https://192.168.1.10:8006/".')),
        insecure: z
            .boolean()
            .default(false)
            .meta(d("Skip TLS verification. Turn it on only for a self-signed certificate you accept.")),
        filesDatastore: z
            .string()
            .default("local")
            .meta(d("Directory datastore for cloud images, container templates and cloud-init snippets.")),
        enableDatacenterFirewall: z
            .boolean()
            .default(true)
            .meta(d("Turn the datacenter firewall on: guest firewalls act only with it on. Never turned off again.")),
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

export const GpuSchema = z.strictObject({
    model: z
        .string()
        .min(1, 'must name the card, such as "NVIDIA GeForce RTX 5090"')
        .meta(d("The card, for outputs and messages.")),
    environment: environment.meta(d("The one environment that may pass this GPU through.")),
    pciAddress: pciAddress.meta(d('Full PCI address of function 0, such as "0000:01:00.0" (`lspci -D`).')),
    vendorDeviceId: vendorDeviceId.meta(d('vendor:device id, such as "10de:2b85" (`lspci -nn`); vfio-pci claims it.')),
    subsystemId: vendorDeviceId.optional().meta(d("Subsystem vendor:device id, recorded in the PCI mapping.")),
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
            }),
        )
        .default([])
        .meta(d("The card's other functions (HDMI audio, USB-C); they go with it to the VM and to vfio-pci.")),
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
        })
        .meta(d("The node's processor.")),
    memory: z
        .strictObject({
            totalGiB: gib.meta(d("Installed RAM.")),
            hostReservedGiB: gib.default(8).meta(d("RAM left to Proxmox, the ZFS ARC and page cache.")),
            zfsArcMaxGiB: gib.optional().meta(d("Cap for the ZFS ARC (inside hostReservedGiB), set by the bootstrap.")),
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
                        "Private: the LAN and VPN networks that may reach its guests (nothing else may). Public: the networks that may administer its guests (SSH, ping).",
                    ),
                ),
        })
        .meta(d("The environment's layer 3.")),
});

// ---- the post-deploy throughput gate ----

export const MODEL_REF_PATTERN = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*(:[a-z0-9][a-z0-9._-]*)?$/i;

export const ModelGateSchema = z.strictObject({
    name: z
        .string()
        .regex(MODEL_REF_PATTERN, 'must be an Ollama model reference such as "qwen2.5:14b" or "mistral:7b"')
        .meta(d("Ollama model, name:tag; pulled on the VM's Ollama if it is not there.")),
    digest: z
        .string()
        .regex(/^(sha256:)?[0-9a-f]{12,64}$/, "must be the digest `ollama list` shows (12 to 64 hex digits)")
        .optional()
        .meta(d("Pin the model's manifest digest: another digest is pulled again, and a mismatch fails.")),
    minTokensPerSecond: z
        .number()
        .positive("must be more than 0 tokens/s")
        .default(50)
        .meta(d("The decode rate (median of the measured runs) below which `pulumi up` fails.")),
    removeOnDelete: z
        .boolean()
        .default(false)
        .meta(d("Delete the model from Ollama when it leaves this list (by default it stays).")),
});

export const ThroughputGateSchema = z
    .strictObject({
        enabled: z
            .boolean()
            .default(true)
            .meta(d("Measure the models after deploy; off skips the gate (the models are then not pulled either).")),
        endpoint: z
            .url({ protocol: /^https?$/, message: 'must be a URL such as "http://10.10.10.10:11434"' })
            .optional()
            .meta(d("Ollama's URL as seen from where `pulumi up` runs; default: the VM's address, port 11434.")),
        prompt: z.string().min(1).optional().meta(d("The fixed prompt of every run (a built-in one by default).")),
        numPredict: z
            .number()
            .int()
            .min(16, "generate at least 16 tokens, or the rate is noise")
            .max(4096)
            .default(128)
            .meta(d("Tokens generated per run.")),
        runs: z.number().int().min(1).max(20).default(3).meta(d("Measured runs after one warm-up run.")),
        requireGpu: z
            .boolean()
            .default(true)
            .meta(d("Fail when the model is not wholly in VRAM (partial offload or CPU fallback).")),
        timeoutSeconds: z
            .number()
            .int()
            .positive()
            .default(300)
            .meta(d("Limit for each call to Ollama (a generation includes loading the model).")),
        stallSeconds: z
            .number()
            .int()
            .positive()
            .default(120)
            .meta(d("A pull with no progress for this long is aborted.")),
    })
    .prefault({})
    .meta(d("How the gate measures this VM's models."));

// ---- per-stack guests (Pulumi.<stack>.yaml) ----

export const VmSchema = z.strictObject({
    vmid: vmid.meta(d("Proxmox VM id, inside environments.<env>.vmids.")),
    node: z.string().meta(d("The node (nodes key) the VM runs on.")),
    description: z.string().optional().meta(d("Shown in Proxmox.")),
    gpu: z
        .string()
        .optional()
        .meta(d("A GPU (nodes.<node>.gpus key) owned by this environment; leave out for a VM without one.")),
    models: z
        .array(ModelGateSchema)
        .default([])
        .meta(
            d(
                "Models the throughput gate pulls and times on the VM's GPU after deploy; `pulumi up` fails on one that is slow or not in VRAM.",
            ),
        ),
    throughputGate: ThroughputGateSchema,
    cores: z.number().int().positive().meta(d("vCPUs (type host).")),
    cpuset: cpuset.meta(
        d("Host CPUs the VM is pinned to: inside the environment's allocation, at least `cores` of them."),
    ),
    memoryGiB: gib.meta(d("RAM, a whole number of GiB with 1G hugepages.")),
    hugepages: z.boolean().default(true).meta(d("Back the RAM with the environment's hugepages (NUMA on).")),
    disk: guestDisk,
    network: guestNetwork,
    image: imageSource(DEFAULT_VM_IMAGE_URL, "cloud image (Ubuntu 24.04 by default)"),
    cloudInit: z
        .strictObject({
            user: z
                .string()
                .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Linux user name")
                .default("ubuntu")
                .meta(d("Login user (sudo, docker groups).")),
            sshPublicKeys: z
                .array(sshPublicKey)
                .min(1, "add at least one key, or you cannot log in")
                .meta(d("OpenSSH public keys for the user; password login stays off.")),
            nvidiaDriverBranch: z
                .string()
                .regex(/^\d{3}$/, 'must be a driver branch such as "570"')
                .default("570")
                .meta(d("NVIDIA driver branch (open kernel modules); RTX 50 (Blackwell) needs 570 or newer.")),
            timezone: z.string().default("Etc/UTC").meta(d("Guest time zone.")),
        })
        .meta(d("First-boot setup: user, keys, NVIDIA driver, container toolkit, Docker.")),
    firewall: guestFirewall,
    services: z
        .record(serviceRef, ServiceSchema)
        .default({})
        .meta(
            d(
                'Containers this VM runs, keyed by service name (the container\'s host name in the VM network); see README, "Services".',
            ),
        ),
    protect: z
        .boolean()
        .default(true)
        .meta(d("Pulumi protect: a destroy or a replacing diff stops instead of deleting the VM.")),
    startOnBoot: z.boolean().default(true).meta(d("Start with the node.")),
});

export const LxcSchema = z.strictObject({
    vmid: vmid.meta(d("Proxmox container id, inside environments.<env>.vmids.")),
    node: z.string().meta(d("The node (nodes key) the container runs on.")),
    role: z
        .enum(LXC_ROLES, { message: `must be one of ${LXC_ROLES.join(", ")}` })
        .meta(d(`What it is for: ${LXC_ROLES.join(", ")}; sets the defaults below.`)),
    description: z.string().optional().meta(d("Shown in Proxmox; defaults to the role's purpose.")),
    cores: z.number().int().positive().optional().meta(d("CPU cores (role default: 1-4).")),
    memoryGiB: gib.optional().meta(d("RAM (role default: 1-8 GiB).")),
    disk: z
        .strictObject({
            storage: z.string().meta(d("A mirror (nodes.<node>.mirrors key) that the environment owns.")),
            sizeGiB: z.number().int().positive().optional().meta(d("Root disk size (role default: 8-64 GiB).")),
        })
        .meta(d("The root disk.")),
    network: guestNetwork,
    template: imageSource(DEFAULT_LXC_TEMPLATE_URL, "container template (Debian 12 by default)"),
    sshPublicKeys: z
        .array(sshPublicKey)
        .min(1, "add at least one key, or you cannot log in")
        .meta(d("OpenSSH public keys for root.")),
    nesting: z
        .boolean()
        .optional()
        .meta(d("Override the role's nesting default (only cicd, which runs containers, has it on).")),
    firewall: guestFirewall,
    postgres: z
        .strictObject({
            databases: z
                .record(
                    z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL name such as "openwebui"'),
                    z.strictObject({
                        passwordSecret: z
                            .string()
                            .min(1)
                            .meta(d("The serviceSecrets name holding the owner role's password.")),
                    }),
                )
                .default({})
                .meta(d("Databases, each with an owner role of the same name (created if missing).")),
            allowFrom: z
                .array(cidr)
                .default([])
                .meta(d('Networks that may log in (pg_hba, scram-sha-256), such as the AI VM "10.10.10.10/32".')),
        })
        .optional()
        .meta(d("role postgresql: install and configure PostgreSQL in the container over SSH, idempotently.")),
    redis: z
        .strictObject({
            passwordSecret: z.string().min(1).meta(d("The serviceSecrets name holding the Redis password.")),
            maxmemoryMiB: z.number().int().positive().default(512).meta(d("Memory cap; keys are evicted LRU.")),
        })
        .optional()
        .meta(d("role redis: install and configure Redis in the container over SSH, idempotently.")),
    protect: z.boolean().optional().meta(d("Pulumi protect (role default: on for postgresql and backup).")),
    startOnBoot: z.boolean().default(true).meta(d("Start with the node.")),
});

/** Every key in the `ai-dualstack` namespace except the secrets, which load.ts reads as secrets. */
export const StackConfigSchema = z.strictObject({
    environment: z
        .preprocess((v) => (v === "" ? undefined : v), environment.optional())
        .meta(d('Which environment this stack builds: "private" or "public"; empty means the stack name.')),
    proxmox: ProxmoxSchema,
    nodes: z
        .record(label, NodeSchema)
        .refine((nodes) => Object.keys(nodes).length > 0, "describe at least one Proxmox node")
        .meta(d("The Proxmox nodes, keyed by node name.")),
    environments: z
        .strictObject({
            private: EnvironmentSchema.meta(d("The private environment: LAN/VPN only.")),
            public: EnvironmentSchema.meta(d("The public environment: internet-facing behind its firewall.")),
        })
        .meta(d("Guest ids and networks of both environments.")),
    vms: z.record(label, VmSchema).default({}).meta(d("This stack's GPU VMs, keyed by name (the VM's host name).")),
    containers: z
        .record(label, LxcSchema)
        .default({})
        .meta(d("This stack's service containers, keyed by name (the container's host name).")),
});

export type ProxmoxConfig = z.infer<typeof ProxmoxSchema>;
export type NodeConfig = z.infer<typeof NodeSchema>;
export type GpuConfig = z.infer<typeof GpuSchema>;
export type MirrorConfig = z.infer<typeof MirrorSchema>;
export type BridgeConfig = z.infer<typeof BridgeSchema>;
export type EnvironmentConfig = z.infer<typeof EnvironmentSchema>;
export type VmConfig = z.infer<typeof VmSchema>;
export type ModelGateConfig = z.infer<typeof ModelGateSchema>;
export type ThroughputGateConfig = z.infer<typeof ThroughputGateSchema>;
export type LxcConfig = z.infer<typeof LxcSchema>;
export type InboundRule = z.infer<typeof inboundRule>;
export type GuestNetworkConfig = z.infer<typeof guestNetwork>;
export type ServiceConfig = z.infer<typeof ServiceSchema>;
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
    serviceSecrets: "secret",
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;
