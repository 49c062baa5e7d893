// The API identity one environment deploys with: a role that holds only the privileges the program
// uses (each with its purpose), a user and a privilege-separated token with it. Created when
// proxmox.apiAccess is "managed", by a first run with an admin token; the token it makes is then
// the stack's proxmoxApiToken (docs/deploying.md). Nothing here is Administrator.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { EnvironmentName } from "../../config/schema";

/** Every privilege the program uses on Proxmox VE 8, and what for. Nothing else is granted. */
export const DEPLOY_PRIVILEGES: readonly { readonly privilege: string; readonly purpose: string }[] = [
    { privilege: "VM.Allocate", purpose: "create and remove the environment's VMs and containers" },
    { privilege: "VM.Audit", purpose: "read their configuration and state" },
    { privilege: "VM.Config.CDROM", purpose: "the cloud-init drive of each VM" },
    { privilege: "VM.Config.CPU", purpose: "cores, CPU type and NUMA (pinning itself goes over root SSH)" },
    { privilege: "VM.Config.Cloudinit", purpose: "cloud-init user data, addresses and DNS" },
    { privilege: "VM.Config.Disk", purpose: "system and EFI disks, the cloud image import" },
    { privilege: "VM.Config.HWType", purpose: "q35, OVMF, the SCSI controller, VGA" },
    { privilege: "VM.Config.Memory", purpose: "memory (hugepages go over root SSH)" },
    { privilege: "VM.Config.Network", purpose: "NICs and each guest's own firewall" },
    { privilege: "VM.Config.Options", purpose: "name, description, tags, start on boot, guest agent" },
    { privilege: "VM.Monitor", purpose: "the guest agent's addresses (PVE 9: VM.GuestAgent.Audit)" },
    { privilege: "VM.PowerMgmt", purpose: "stop a guest before it is removed" },
    { privilege: "VM.Backup", purpose: "the environment's vzdump job and its restore drill" },
    { privilege: "Datastore.Allocate", purpose: "register the environment's mirror as storage" },
    { privilege: "Datastore.AllocateSpace", purpose: "guest disks on the mirror" },
    { privilege: "Datastore.AllocateTemplate", purpose: "the cloud image, the template and snippets" },
    { privilege: "Datastore.Audit", purpose: "read storages and their content" },
    { privilege: "Sys.Audit", purpose: "read node, network and cluster state" },
    {
        privilege: "Sys.Modify",
        purpose: "bridges and VLANs, the ZFS pool, the cluster firewall's groups and IP sets, downloads",
    },
    { privilege: "Mapping.Audit", purpose: "read PCI mappings" },
    { privilege: "Mapping.Modify", purpose: "create the environment's PCI mapping of its GPU" },
    { privilege: "Mapping.Use", purpose: "pass the GPU through by mapping (raw PCI ids are root-only)" },
    { privilege: "SDN.Use", purpose: "attach NICs to the environment's bridges" },
];

/** Names of an environment's identity: role, user, token. */
export function accessNames(env: EnvironmentName) {
    const role = `AiDualstack${env[0]?.toUpperCase() ?? ""}${env.slice(1)}`;
    const user = `aids-${env}@pve`;
    return { role, user, token: "pulumi", tokenId: `${user}!pulumi` };
}

export interface ProxmoxAccessArgs {
    readonly environment: EnvironmentName;
}

export class ProxmoxAccess extends pulumi.ComponentResource {
    public readonly role: proxmoxve.RoleLegacy;
    public readonly user: proxmoxve.UserLegacy;
    public readonly token: proxmoxve.user.TokenLegacy;
    /** `user@pve!pulumi=<uuid>`: set it as proxmoxApiToken after the first run. A secret. */
    public readonly apiToken: pulumi.Output<string>;
    public readonly tokenId: string;

    constructor(name: string, args: ProxmoxAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:host:ProxmoxAccess", name, {}, opts);
        const names = accessNames(args.environment);
        const child = { parent: this };
        this.tokenId = names.tokenId;
        this.role = new proxmoxve.RoleLegacy(
            `${name}-role`,
            { roleId: names.role, privileges: DEPLOY_PRIVILEGES.map((p) => p.privilege) },
            child,
        );
        this.user = new proxmoxve.UserLegacy(
            `${name}-user`,
            { userId: names.user, enabled: true, comment: `ai-dualstack ${args.environment}: deploys with its token` },
            child,
        );
        this.token = new proxmoxve.user.TokenLegacy(
            `${name}-token`,
            {
                userId: names.user,
                tokenName: names.token,
                // The token holds only what its own ACL grants, and never more than the user.
                privilegesSeparation: true,
                comment: `ai-dualstack ${args.environment}: proxmoxApiToken`,
            },
            { ...child, dependsOn: [this.user], additionalSecretOutputs: ["value"] },
        );
        // The cluster firewall needs Sys.Modify on "/": the role, not the path, keeps this narrow.
        for (const [who, target] of [
            ["user", { userId: names.user }],
            ["token", { tokenId: names.tokenId }],
        ] as const) {
            new proxmoxve.AclLegacy(
                `${name}-acl-${who}`,
                { path: "/", propagate: true, roleId: names.role, ...target },
                { ...child, dependsOn: [this.role, this.user, this.token] },
            );
        }
        this.apiToken = pulumi.secret(this.token.value.apply((v) => (v.includes("=") ? v : `${names.tokenId}=${v}`)));
        this.registerOutputs({ tokenId: this.tokenId, apiToken: this.apiToken });
    }
}
