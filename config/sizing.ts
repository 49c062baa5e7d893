// Defaults per service-container role, and the sizing a container ends up with after overrides.

import { unclaimedCpus } from "../lib/cpuset";
import { LxcConfig, LxcRole, NodeConfig } from "./schema";

export interface RoleDefaults {
    /** What the container is for, written into its Proxmox description. */
    purpose: string;
    cores: number;
    memoryGiB: number;
    diskGiB: number;
    /**
     * Proxmox's nesting feature. On for every role: each one's container runs services that start in a mount
     * namespace of their own (systemd.exec ProtectSystem=, PrivateTmp=...), which an unprivileged container
     * without nesting refuses (226/NAMESPACE); `nestingWhy` names them, as the booted-system suites list them.
     */
    nesting: boolean;
    /** Why the role has nesting on (or off): the services that need it. */
    nestingWhy: string;
    /** Roles that hold data nobody wants deleted by a stray destroy. */
    protect: boolean;
    /** TCP ports of the role's own UIs, open to the environment's published-port sources. */
    uiPorts: readonly number[];
}

export const ROLE_DEFAULTS: Readonly<Record<LxcRole, RoleDefaults>> = {
    postgresql: {
        purpose: "Relational database (PostgreSQL)",
        cores: 2,
        memoryGiB: 4,
        diskGiB: 32,
        nesting: true,
        nestingWhy:
            "systemd-logind (ProtectSystem, PrivateTmp; every Debian 12/13 container, and each SSH login waits on it); postgresql@ itself asks for none",
        protect: true,
        uiPorts: [],
    },
    redis: {
        purpose: "Cache (Redis)",
        cores: 1,
        memoryGiB: 2,
        diskGiB: 8,
        nesting: true,
        nestingWhy:
            "redis-server (ProtectSystem=strict, PrivateTmp, PrivateDevices, ReadWritePaths) and systemd-logind (ProtectSystem, PrivateTmp; every Debian 12/13 container, and each SSH login waits on it)",
        protect: false,
        uiPorts: [],
    },
    security: {
        purpose: "Security services (VPN, intrusion detection)",
        cores: 1,
        memoryGiB: 1,
        diskGiB: 8,
        nesting: true,
        nestingWhy:
            "nftables.service (ProtectSystem, ProtectHome), which loads the VPN's rules at boot, and systemd-logind (ProtectSystem, PrivateTmp; every Debian 12/13 container, and each SSH login waits on it)",
        protect: false,
        uiPorts: [],
    },
    cicd: {
        purpose: "CI/CD runners (containers inside)",
        cores: 4,
        memoryGiB: 8,
        diskGiB: 64,
        nesting: true,
        nestingWhy:
            "Docker runs containers inside (nested namespaces and mounts), and systemd-logind (ProtectSystem, PrivateTmp; every Debian 12/13 container, and each SSH login waits on it)",
        protect: false,
        uiPorts: [],
    },
    monitoring: {
        purpose: "Monitoring (Prometheus, Grafana, alerting)",
        cores: 2,
        memoryGiB: 4,
        diskGiB: 32,
        nesting: true,
        nestingWhy:
            "prometheus (ProtectSystem, PrivateTmp, PrivateDevices) and systemd-logind (ProtectSystem, PrivateTmp; every Debian 12/13 container, and each SSH login waits on it)",
        protect: false,
        uiPorts: [9090, 3000],
    },
    backup: {
        purpose: "Backups (Proxmox Backup Server: a datastore per environment)",
        cores: 2,
        memoryGiB: 2,
        diskGiB: 16,
        nesting: true,
        nestingWhy:
            "systemd-logind (ProtectSystem, PrivateTmp; every Debian 12/13 container, and each SSH login waits on it); the PBS daemons could not be installed here to be listed",
        protect: true,
        // The PBS API and GUI: the nodes' vzdump and the admins reach it from the trusted networks.
        uiPorts: [8007],
    },
};

/** A container's effective size and features. */
export type LxcSizing = Omit<RoleDefaults, "purpose" | "uiPorts" | "nestingWhy">;

/** The container's effective size and features: its own settings over its role's defaults. */
export function lxcSizing(lxc: LxcConfig): LxcSizing {
    const role = ROLE_DEFAULTS[lxc.role];
    // keyctl is left off: Proxmox lets only root@pam set feature flags besides nesting.
    const nesting = lxc.nesting ?? role.nesting;
    return {
        cores: lxc.cores ?? role.cores,
        memoryGiB: lxc.memoryGiB ?? role.memoryGiB,
        diskGiB: lxc.disk.sizeGiB ?? role.diskGiB,
        nesting,
        protect: lxc.protect ?? role.protect,
    };
}

/** The node's CPUs that no environment's allocation claims: where the host and the containers run. */
export function sharedCpus(node: NodeConfig | undefined): number[] {
    if (!node) return [];
    return unclaimedCpus(
        node.cpu.threads,
        Object.values(node.allocations).flatMap((a) => (a ? [a.cpuset] : [])),
    );
}

/**
 * The ZFS ARC maximum the node's budget counts: the configured cap (the bootstrap writes it), else
 * the cap the Proxmox VE 8.1+ installer writes to /etc/modprobe.d/zfs.conf, 10% of RAM clamped to
 * 16 GiB (admin guide, "ZFS on Linux", section "Limit ZFS Memory Usage"). Without any cap OpenZFS
 * 2.3 (Proxmox VE 9) lets the ARC grow to the larger of RAM - 1 GiB and 5/8 of RAM, and 2.2 to
 * half of RAM (openzfs/zfs#15437); the host check reads the real maximum and refuses those.
 */
export function arcMaxGiB(memory: NodeConfig["memory"]): number {
    return memory.zfsArcMaxGiB ?? Math.min(16, Math.round(memory.totalGiB * 10) / 100);
}

/** What the guests of both environments may use on the node: MemTotal less the ARC and Proxmox. */
export function guestBudgetGiB(memory: NodeConfig["memory"]): number {
    // Rounded to hundredths: the figures are GiB with at most a fraction, and messages print them.
    return Math.round((memory.totalGiB - arcMaxGiB(memory) - memory.hostReservedGiB) * 100) / 100;
}
