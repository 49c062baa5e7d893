// A service container resolved: its sizing over its role's defaults, the node's shared CPUs, and
// every inbound rule it gets (its UIs, its data layer, its role's set-ups, the monitoring host's
// exporter rule) in one list.

import { EnvironmentPolicy } from "../policy";
import { rolePurpose } from "../rolePurpose";
import { EnvironmentConfig, InboundRule, LxcConfig, LxcRole, ProxmoxConfig } from "../schema";
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
    readonly template: LxcConfig["template"];
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
        template: ct.template,
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
