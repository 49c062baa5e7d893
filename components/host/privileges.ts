// Every Proxmox privilege an environment's deploy identity holds: the path it is granted on, whether
// it reaches below that path, and why. A plain table, from which access.ts builds one role per grant
// and its ACLs, and the docs their pveum commands (tested against it). Each path is the one Proxmox
// checks for the call; the source that checks it is named beside the grant.

import { EnvironmentName } from "../../config/schema";

export interface Privilege {
    readonly privilege: string;
    readonly reason: string;
}

/** One role on one or more ACL paths. */
export interface Grant {
    /** Role name suffix: the role is `AiDualstack<Env><scope>`. */
    readonly scope: string;
    readonly paths: readonly string[];
    /** Whether the ACL also covers the paths below (Proxmox's `propagate`). */
    readonly propagate: boolean;
    readonly privileges: readonly Privilege[];
}

/** What an environment's grants are computed from: its version, pool, storages, mappings, bridges. */
export interface AccessScope {
    readonly environment: EnvironmentName;
    /** The node's Proxmox VE major version (proxmox.majorVersion, which the host check confirms). */
    readonly pveMajor: 8 | 9;
    readonly nodes: readonly string[];
    /** The environment's mirrors: guest disks and backup mounts. */
    readonly storages: readonly string[];
    /** proxmox.filesDatastore: images, templates, snippets. */
    readonly filesDatastore: string;
    /** The environment's PBS storage, when it has backups. */
    readonly backupStorage?: string;
    /** Its PCI mappings (`<env>-<gpu>`). */
    readonly mappings: readonly string[];
    /** The bridges its guests' NICs attach to. */
    readonly bridges: readonly string[];
    /** It creates the monitoring identity (monitoring.hostExporters). */
    readonly monitoringIdentity: boolean;
}

/** The Proxmox pool that holds an environment's guests; its VM privileges are granted there. */
export function poolName(env: EnvironmentName): string {
    return env;
}

const p = (privilege: string, reason: string): Privilege => ({ privilege, reason });

/**
 * The guest agent: PVE 9 dropped VM.Monitor for VM.GuestAgent.* (pve-access-control commit "privileges:
 * drop VM.Monitor", src/PVE/AccessControl.pm $privgroups; add_role_privs dies "invalid privilege").
 */
function guestAgent(major: 8 | 9): Privilege {
    return major >= 9
        ? p("VM.GuestAgent.Audit", "read the guest agent's addresses of the environment's VMs (PVE 9)")
        : p("VM.Monitor", "read the guest agent's addresses of the environment's VMs (PVE 8)");
}

/** The environment's guests, through its pool (pve-access-control RPCEnvironment.pm: pool roles apply to members). */
function poolGrant(s: AccessScope): Grant {
    return {
        scope: "Pool",
        paths: [`/pool/${poolName(s.environment)}`],
        propagate: true,
        privileges: [
            p("Pool.Allocate", "create the environment's pool (pve-access-control API2/Pool.pm)"),
            p("Pool.Audit", "read the pool and its members"),
            p("VM.Allocate", "create guests in the pool and remove them (qemu-server create_vm checks /pool/<pool>)"),
            p("VM.Audit", "read the guests' configuration and state"),
            p("VM.Config.CDROM", "the cloud-init drive of each VM"),
            p("VM.Config.CPU", "cores, CPU type and NUMA (pinning itself goes over root SSH)"),
            p("VM.Config.Cloudinit", "cloud-init user data, addresses and DNS"),
            p("VM.Config.Disk", "system and EFI disks, the cloud image import"),
            p("VM.Config.HWType", "q35, OVMF, the SCSI controller, VGA"),
            p("VM.Config.Memory", "memory (hugepages go over root SSH)"),
            p("VM.Config.Network", "NICs and each guest's own firewall"),
            p("VM.Config.Options", "name, description, tags, start on boot, guest agent"),
            guestAgent(s.pveMajor),
            p("VM.PowerMgmt", "stop a guest before it is removed"),
            p("VM.Backup", "the restore drill of the environment's guests"),
        ],
    };
}

/** Storage: the parent path for registering, each storage for its content (pve-storage API2/Storage/Config.pm). */
function storageGrants(s: AccessScope): Grant[] {
    const grants: Grant[] = [
        {
            scope: "StorageConfig",
            paths: ["/storage"],
            // Exactly /storage: create, update and delete of a storage entry check it there; it
            // reaches no other environment's storage.
            propagate: false,
            privileges: [p("Datastore.Allocate", "register the environment's mirrors and PBS storage")],
        },
        {
            scope: "Storage",
            paths: [...s.storages],
            propagate: false,
            privileges: [
                p("Datastore.AllocateSpace", "guest disks and backup mounts on the environment's mirrors"),
                p("Datastore.Audit", "read the mirrors and their content"),
            ],
        },
        {
            scope: "Files",
            paths: [s.filesDatastore],
            propagate: false,
            privileges: [
                p("Datastore.AllocateTemplate", "download the cloud image and template (pve-storage download-url)"),
                p("Datastore.Audit", "read the image and template volumes the guests are made from"),
            ],
        },
    ];
    if (s.backupStorage !== undefined) {
        grants.push({
            scope: "Backup",
            paths: [s.backupStorage],
            propagate: false,
            privileges: [
                p("Datastore.Allocate", "the vzdump job's target (pve-manager API2/Backup.pm create_job)"),
                p("Datastore.AllocateSpace", "the backups it writes"),
                p("Datastore.Audit", "read the backups for the restore drill"),
            ],
        });
    }
    return grants.map((g) => ({ ...g, paths: g.paths.map((x) => (x.startsWith("/") ? x : `/storage/${x}`)) }));
}

/** The user, token and ACL of the monitoring identity (pve-access-control API2/User.pm, API2/ACL.pm). */
function monitoringGrants(): Grant[] {
    return [
        {
            scope: "Realm",
            paths: ["/access/realm/pve"],
            propagate: false,
            privileges: [
                p(
                    "Realm.AllocateUser",
                    "create the monitoring and preview users in the pve realm (User.pm create_user)",
                ),
            ],
        },
        {
            scope: "Users",
            paths: ["/access/groups"],
            propagate: false,
            privileges: [
                p(
                    "User.Modify",
                    "create the monitoring and preview users (in no group) and their tokens (User.pm userid-group)",
                ),
            ],
        },
    ];
}

/** Everything Proxmox checks on "/" itself: the ACL there does not propagate. */
function rootGrant(s: AccessScope): Grant {
    const privileges = [
        p("Sys.Audit", "download-url with Sys.Modify (pve-storage API2/Storage/Status.pm); read ZFS pools"),
        p(
            "Sys.Modify",
            "the cluster firewall's groups, IP sets and options (pve-firewall), the vzdump job (pve-manager API2/Backup.pm), ZFS pool creation (pve-storage API2/Disks/ZFS.pm), download-url",
        ),
    ];
    if (s.monitoringIdentity) {
        privileges.push(
            p(
                "Permissions.Modify",
                "the monitoring and preview tokens' PVEAuditor ACLs on / (pve-access-control API2/ACL.pm update_acl: perm-modify accepts nothing else on /); it could grant any role, as root SSH already can",
            ),
        );
    }
    return { scope: "Root", paths: ["/"], propagate: false, privileges };
}

/** Every grant of an environment's deploy identity. */
export function accessGrants(s: AccessScope): Grant[] {
    const grants: Grant[] = [
        rootGrant(s),
        {
            scope: "Node",
            paths: s.nodes.map((n) => `/nodes/${n}`),
            propagate: false,
            privileges: [
                p("Sys.Audit", "read the node's network and status"),
                p("Sys.Modify", "bridges and VLANs (pve-manager API2/Network.pm), the node firewall"),
            ],
        },
        poolGrant(s),
        ...storageGrants(s),
        {
            scope: "MappingConfig",
            paths: ["/mapping/pci"],
            // Exactly /mapping/pci: create and delete check it there (pve-manager API2/Cluster/Mapping/PCI.pm).
            propagate: false,
            privileges: [p("Mapping.Modify", "create and remove the environment's PCI mapping")],
        },
        {
            scope: "Mapping",
            paths: s.mappings.map((m) => `/mapping/pci/${m}`),
            propagate: false,
            privileges: [
                p("Mapping.Audit", "read the environment's PCI mapping"),
                p("Mapping.Modify", "update the environment's PCI mapping"),
                p("Mapping.Use", "pass the GPU through by mapping (raw PCI ids are root-only)"),
            ],
        },
        {
            scope: "Sdn",
            // Plain Linux bridges sit in the "localnetwork" zone (pve-access-control RPCEnvironment.pm check_sdn_bridge).
            paths: s.bridges.map((b) => `/sdn/zones/localnetwork/${b}`),
            propagate: true,
            privileges: [p("SDN.Use", "attach the guests' NICs to the environment's bridges")],
        },
        ...(s.monitoringIdentity ? monitoringGrants() : []),
    ];
    return grants.filter((g) => g.paths.length > 0);
}

/** The role a grant becomes. */
export function grantRole(env: EnvironmentName, g: Grant): string {
    return `AiDualstack${env[0]?.toUpperCase() ?? ""}${env.slice(1)}${g.scope}`;
}

/** The pveum commands that make the identity by hand (docs/deploying.md shows them for the shipped stacks). */
export function pveumCommands(s: AccessScope, user: string, token: string): string[] {
    // No `pveum pool add`: the stack creates its pool (Pool.Allocate below).
    const lines = [`pveum user add ${user}`];
    lines.push(`pveum user token add ${user} ${token} --privsep 1   # prints the token secret once`);
    for (const g of accessGrants(s)) {
        const role = grantRole(s.environment, g);
        lines.push(`pveum role add ${role} --privs "${g.privileges.map((x) => x.privilege).join(",")}"`);
        for (const path of g.paths) {
            const who = `--users ${user} --tokens '${user}!${token}'`;
            lines.push(`pveum acl modify ${path} ${who} --roles ${role} --propagate ${g.propagate ? 1 : 0}`);
        }
    }
    return lines;
}

/** The scope docs/security.md describes: every grant, with placeholders for the names. */
export const DOCUMENTED_SCOPE: AccessScope = {
    environment: "<environment>" as EnvironmentName,
    pveMajor: 9,
    nodes: ["<node>"],
    storages: ["<mirror>"],
    filesDatastore: "<filesDatastore>",
    backupStorage: "pbs-<environment>",
    mappings: ["<environment>-<gpu>"],
    bridges: ["<bridge>"],
    monitoringIdentity: true,
};

/** docs/security.md's table rows: path, privilege, reason (unpadded; prettier pads them). */
export function privilegeRows(s: AccessScope = DOCUMENTED_SCOPE): string[] {
    return accessGrants(s).flatMap((g) => {
        const paths = g.paths.map((x) => `\`${x}\``).join(", ") + (g.propagate ? " and below" : "");
        return g.privileges.map((x) => `| ${paths} | \`${x.privilege}\` | ${x.reason} |`);
    });
}
