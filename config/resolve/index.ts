// The resolve step: a validated config (and the peer stacks' configs, loaded once by config/load.ts)
// becomes the StackModel the stack builds from, in one pass. References are followed once here (GPU
// names to GPU objects, "2-13" to CPU lists, "10.10.10.10/24" to { ip, prefix }, role defaults to each
// container's sizing, the gate's fixed settings added, the monitoring host's exporter rule), and the
// files services ship are read, so nothing downstream looks anything up, parses or patches it again.

import { EnvironmentPolicy } from "../policy";
import { guestsOf } from "../rules/guests";
import { EnvironmentConfig, EnvironmentName, ParsedConfig, ProxmoxConfig } from "../schema";
import { sharedCpus } from "../sizing";
import { BackupModel, resolveBackup } from "./backup";
import { LxcModel, resolveLxc } from "./container";
import { MonitoringModel, PeerStack, monitoringSource, resolveMonitoring } from "./monitoring";
import { trustedNetwork } from "./network";
import { NodeModel, resolveNode } from "./node";
import { VmModel, resolveVm } from "./vm";

export type { BackupModel } from "./backup";
export { lxcTemplate, resolveLxc } from "./container";
export type { LxcModel } from "./container";
export type { MonitoringModel, PeerStack } from "./monitoring";
export { resolveNetwork } from "./network";
export type { GuestNetworkModel } from "./network";
export { resolveNode } from "./node";
export type { BridgeModel, GpuModel, MirrorModel, NodeModel } from "./node";
export type { ServiceModel, VmModel } from "./vm";
export type { GateSettings } from "../schema";

/** What the stack builds from, resolved once; every field read-only. */
export type StackModel = Readonly<{
    stack: string;
    environment: EnvironmentName;
    policy: EnvironmentPolicy;
    proxmox: ProxmoxConfig;
    /** This environment's layer 3. */
    network: EnvironmentConfig["network"];
    /** The nodes the environment touches: where it owns hardware or runs guests, in config order. */
    nodes: readonly NodeModel[];
    vms: readonly VmModel[];
    containers: readonly LxcModel[];
    /** The key file the Docker provider's ssh logs in to the VMs with; undefined: ssh's defaults. */
    dockerSshKeyFile?: string;
    /** With monitoring configured: the source every stack admits, and the server where it runs. */
    monitoring?: MonitoringModel;
    /** Backups (backup.ts); undefined when the stack declares none. */
    backup?: BackupModel;
}>;

/** The stack's model; `peers`: the monitoring server's peer stacks (none elsewhere), loaded by config/load.ts. */
export function resolveStack(
    cfg: ParsedConfig,
    stack: string,
    policy: EnvironmentPolicy,
    peers: readonly PeerStack[],
): StackModel {
    const env = policy.environment;
    // The VPN's clients arrive masqueraded on the environment's own subnet: network.ts says why.
    const network = trustedNetwork(cfg.environments[env].network, cfg.containers);
    // In the order the config rules walk them, so the host check names the same guest first.
    const guests = guestsOf(cfg);
    const touched = new Set([...Object.values(cfg.vms), ...Object.values(cfg.containers)].map((g) => g.node));
    const nodes = Object.entries(cfg.nodes)
        .map(([name, node]) => resolveNode(name, node, env, guests))
        .filter((n) => n.gpus.length + n.mirrors.length + n.bridges.length > 0 || touched.has(n.name));
    const exporterSource = cfg.monitoring ? monitoringSource(cfg.monitoring) : undefined;
    const vms = Object.entries(cfg.vms).map(([name, vm]) => resolveVm(name, vm, cfg, policy, network));
    const containers = Object.entries(cfg.containers).map(([name, ct]) =>
        resolveLxc(
            name,
            ct,
            policy,
            network,
            sharedCpus(cfg.nodes[ct.node]),
            {
                proxmox: cfg.proxmox,
                nodeAddress: cfg.nodes[ct.node]?.address,
                nodesSsh: Object.values(cfg.nodes).map((n) => ({ address: n.address, port: n.sshPort })),
            },
            exporterSource,
        ),
    );
    const monitoring = resolveMonitoring(cfg, { environment: env, vms, containers, nodes }, peers);
    return {
        stack,
        environment: env,
        policy,
        proxmox: cfg.proxmox,
        network,
        nodes,
        vms,
        containers,
        ...(cfg.dockerSshKeyFile !== undefined ? { dockerSshKeyFile: cfg.dockerSshKeyFile } : {}),
        ...(cfg.backup ? { backup: resolveBackup(cfg, env) } : {}),
        ...(monitoring ? { monitoring } : {}),
    };
}
