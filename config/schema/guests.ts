// Per-stack guests (Pulumi.<stack>.yaml): the GPU VMs and the service containers.

import { z } from "zod";
import {
    DEBIAN_LXC_TEMPLATES,
    DEFAULT_VM_IMAGE_URL,
    GPU_GUEST_KINDS,
    PveMajor,
    LXC_ROLES,
    cpuset,
    d,
    gib,
    guestDisk,
    guestFirewall,
    guestNetwork,
    imageSource,
    optionalImageSource,
    cidr,
    sshPublicKey,
    vmid,
    flag,
    secretRef,
} from "./fields";
import { ModelGateSchema, ThroughputGateSchema } from "./gate";
import { CrowdsecSchema, RunnerSchema, WireguardSchema } from "./security";
import { ServiceSchema, serviceRef } from "./service";
import { guestBackupFields } from "./backup";

/** The default template's file name for a Proxmox VE major. */
const templateFile = (major: PveMajor) => DEBIAN_LXC_TEMPLATES[major].url.split("/").pop() ?? "";

export const VmSchema = z.strictObject({
    vmid: vmid.meta(d("Proxmox VM id, inside environments.<env>.vmids.")),
    node: z.string().meta(d("The node (nodes key) the VM runs on.")),
    description: z.string().optional().meta(d("Shown in Proxmox.")),
    gpu: z
        .string()
        .optional()
        .meta(d("A GPU (nodes.<node>.gpus key) owned by this environment; leave out for a VM without one.")),
    kind: z
        .enum(GPU_GUEST_KINDS, { message: 'must be "vm" or "container"' })
        .optional()
        .meta(
            d(
                "The guest's kind; left out, its GPU's nodes.<node>.gpus.<gpu>.guest (a VM without a GPU is a VM). \"vm\": a VM with the card by PCI mapping (the default, and the advice for the public environment). \"container\": an unprivileged LXC (Debian, the default template of proxmox.majorVersion) with the card's device nodes from the host's NVIDIA driver, nesting on for Docker, the same driver version's userspace and the NVIDIA container toolkit inside; the same models, services, gate, probe, monitoring and backups. A container ignores hugepages, image and cloudInit.nvidiaDriverBranch (the host's driver counts) and makes cloudInit.user with cloudInit.sshPublicKeys itself. It shares the host's kernel: docs/security.md says what an escape reaches.",
            ),
        ),
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
    hugepages: flag(true, "Back the RAM with the environment's hugepages (NUMA on)."),
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
    protect: flag(true, "Pulumi protect: a destroy or a replacing diff stops instead of deleting the VM."),
    startOnBoot: flag(true, "Start with the node."),
    ...guestBackupFields,
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
    template: optionalImageSource(
        "container template",
        `The container template; downloaded once per environment and node. Left out: Proxmox's Debian standard template for proxmox.majorVersion, with the sha512 of Proxmox's template index: ${templateFile(9)} on 9, ${templateFile(8)} on 8.`,
    ),
    sshPublicKeys: z
        .array(sshPublicKey)
        .min(1, "add at least one key, or you cannot log in")
        .meta(d("OpenSSH public keys for root.")),
    nesting: z
        .boolean()
        .optional()
        .meta(
            d(
                "Override the role's nesting default, which is on for every role: each container runs services that start in a mount namespace of their own (systemd-logind everywhere; redis-server, prometheus, nftables, Docker by role), and an unprivileged container without nesting refuses those mounts (226/NAMESPACE; Proxmox warns for every systemd 252+ guest without it). Off only if you know the container's services ask for none (docs/testing.md, booted systems).",
            ),
        ),
    firewall: guestFirewall,
    postgres: z
        .strictObject({
            databases: z
                .record(
                    z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL name such as "openwebui"'),
                    z.strictObject({
                        passwordSecret: secretRef("The serviceSecrets name holding the owner role's password."),
                    }),
                )
                .default({})
                .meta(d("Databases, each with an owner role of the same name (created if missing).")),
            allowFrom: z
                .array(cidr)
                .default([])
                .meta(
                    d(
                        'Networks that may log in (pg_hba, scram-sha-256, and the container\'s firewall), such as the AI VM "10.10.10.10/32".',
                    ),
                ),
        })
        .optional()
        .meta(d("role postgresql: install and configure PostgreSQL in the container over SSH, idempotently.")),
    redis: z
        .strictObject({
            passwordSecret: secretRef("The serviceSecrets name holding the Redis password."),
            maxmemoryMiB: z.number().int().positive().default(512).meta(d("Memory cap; keys are evicted LRU.")),
            allowFrom: z
                .array(cidr)
                .default([])
                .meta(d('Networks that may connect (the container\'s firewall), such as the AI VM "10.10.10.10/32".')),
        })
        .optional()
        .meta(d("role redis: install and configure Redis in the container over SSH, idempotently.")),
    wireguard: WireguardSchema.optional(),
    crowdsec: CrowdsecSchema.optional(),
    runner: RunnerSchema.optional(),
    protect: z.boolean().optional().meta(d("Pulumi protect (role default: on for postgresql and backup).")),
    startOnBoot: flag(true, "Start with the node."),
    ...guestBackupFields,
});

/** Every key in the `ai-dualstack` namespace except the secrets, which load.ts reads as secrets. */

export type VmConfig = z.infer<typeof VmSchema>;
export type LxcConfig = z.infer<typeof LxcSchema>;
