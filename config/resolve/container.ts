// A service container resolved: its sizing over its role's defaults, the node's shared CPUs, and
// every inbound rule it gets (its UIs, its data layer, its role's set-ups, the monitoring host's
// exporter rule) in one list.

import { EnvironmentPolicy } from "../policy";
import { rolePurpose } from "../rolePurpose";
import {
    DEBIAN_LXC_TEMPLATES,
    DEFAULT_PVE_MAJOR,
    EnvironmentConfig,
    ImageSource,
    InboundRule,
    LxcConfig,
    LxcRole,
    PveMajor,
    ProxmoxConfig,
} from "../schema";
import { LxcSizing, lxcSizing } from "../sizing";
import { lxcInbound, exporterRule } from "./firewall";
import { GuestNetworkModel, resolveNetwork } from "./network";
import { RoleOutbound, roleInbound, roleOutbound } from "./roleFirewall";

export interface LxcModel {
    readonly name: string;
    readonly vmid: number;
    readonly node: string;
    readonly role: LxcRole;
    /** Its own description, or the role's purpose. */
    readonly description: string;
    /** Cores, RAM, disk, nesting and protect: its own settings over its role's defaults. */
    readonly sizing: LxcSizing;
    /** The host CPUs it is pinned to: its node's shared ones, which no environment's allocation claims. */
    readonly cpus: readonly number[];
    /** The mirror (storage id) its root disk is on. */
    readonly storage: string;
    readonly network: GuestNetworkModel;
    /** Its own template, or the Debian standard template of the nodes' Proxmox VE major (lxcTemplate). */
    readonly template: ImageSource;
    /** Keys for root. */
    readonly sshPublicKeys: readonly string[];
    /** Its inbound rules on top of the environment baseline: its UIs, its data layer, its own rules. */
    readonly inbound: readonly InboundRule[];
    /** The data layer set up inside it, if any. */
    readonly postgres?: NonNullable<LxcConfig["postgres"]>;
    readonly redis?: NonNullable<LxcConfig["redis"]>;
    /** The security and CI/CD set-ups (config/schema/security.ts), if any. */
    readonly wireguard?: NonNullable<LxcConfig["wireguard"]>;
    readonly crowdsec?: NonNullable<LxcConfig["crowdsec"]>;
    readonly runner?: NonNullable<LxcConfig["runner"]>;
    /** Its own outbound policy and rules (the runner's); undefined: the environment's. */
    readonly outbound?: RoleOutbound;
    readonly startOnBoot: boolean;
}

/**
 * The container's template: its own, or Proxmox's Debian standard template for the Proxmox VE major
 * (Debian 13 on 9, Debian 12 on 8), with the checksum Proxmox's template index lists for it.
 */
export function lxcTemplate(own: LxcConfig["template"], major: PveMajor): ImageSource {
    return own ?? { ...DEBIAN_LXC_TEMPLATES[major] };
}

export function resolveLxc(
    name: string,
    ct: LxcConfig,
    policy: EnvironmentPolicy,
    network: EnvironmentConfig["network"],
    cpus: readonly number[] = [],
    host?: {
        proxmox: ProxmoxConfig;
        nodeAddress: string | undefined;
        /** Each node's SSH: the runner's preview runs the read-only host check there. */
        nodesSsh?: readonly { address: string; port: number }[];
    },
    /** The monitoring host's /32 (monitoring.address), admitted to the container's node-exporter. */
    monitoringSource?: string,
): LxcModel {
    const env = policy.environment;
    const outbound = host ? roleOutbound(ct, network, host.proxmox, host.nodesSsh ?? []) : undefined;
    return {
        name,
        vmid: ct.vmid,
        node: ct.node,
        role: ct.role,
        description: ct.description ?? `ai-dualstack ${env}: ${rolePurpose(ct)}`,
        sizing: lxcSizing(ct),
        cpus,
        storage: ct.disk.storage,
        network: resolveNetwork(ct.network),
        // Without the host facts (a unit test of one container), the schema's default major.
        template: lxcTemplate(ct.template, host?.proxmox.majorVersion ?? DEFAULT_PVE_MAJOR),
        sshPublicKeys: ct.sshPublicKeys,
        inbound: [
            ...lxcInbound(ct, policy, network),
            ...roleInbound(ct, host?.nodeAddress),
            ...(monitoringSource !== undefined ? [exporterRule(monitoringSource)] : []),
        ],
        ...(ct.postgres ? { postgres: ct.postgres } : {}),
        ...(ct.redis ? { redis: ct.redis } : {}),
        ...(ct.wireguard ? { wireguard: ct.wireguard } : {}),
        ...(ct.crowdsec ? { crowdsec: ct.crowdsec } : {}),
        ...(ct.runner ? { runner: ct.runner } : {}),
        ...(outbound ? { outbound } : {}),
        startOnBoot: ct.startOnBoot,
    };
}
