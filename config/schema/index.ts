// The one strict schema for a stack's configuration (project namespace `ai-dualstack`). Shape and
// defaults live in this folder; rules that span fields live in config/rules/.

import { z } from "zod";
import { d, environment, label } from "./fields";
import { EnvironmentSchema, NodeSchema, ProxmoxSchema } from "./host";
import { LxcSchema, VmSchema } from "./guests";
import { MonitoringSchema } from "./monitoring";
import { BackupSchema } from "./backup";

export * from "./backup";
export * from "./fields";
export * from "./gate";
export * from "./guests";
export * from "./host";
export * from "./security";
export * from "./monitoring";
export * from "./probe";
export * from "./service";

/** The config namespace: every key is `ai-dualstack:<key>`. */
export const NAMESPACE = "ai-dualstack";

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
    monitoring: MonitoringSchema,
    backup: BackupSchema,
    dockerSshKeyFile: z
        .string()
        .regex(/^(~\/|\/)\S+$/, 'must be a path to a private key file, such as "~/.ssh/ai-dualstack-docker"')
        .optional()
        .meta(
            d(
                "Private key file, on the machine running Pulumi, that the Docker provider's ssh logs in to the VMs with (its public half in their cloudInit.sshPublicKeys). Without it, ssh uses its default identity files and ~/.ssh/config; never the agent's other keys (IdentitiesOnly).",
            ),
        ),
});

export type ParsedConfig = z.infer<typeof StackConfigSchema>;

/** The top-level keys and where a user edits them: shared host facts or the stack's own file. */
export const CONFIG_KEYS = {
    environment: "stack",
    proxmox: "project",
    nodes: "project",
    environments: "project",
    vms: "stack",
    containers: "stack",
    monitoring: "project",
    backup: "stack",
    dockerSshKeyFile: "stack",
    proxmoxApiToken: "secret",
    sshPrivateKey: "secret",
    guestSshPrivateKey: "secret",
    serviceSecrets: "secret",
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;
