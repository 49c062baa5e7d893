// The resolve step: a validated config becomes the StackModel the stack builds from. References are
// followed once here (GPU names to GPU objects, "2-13" to CPU lists, "10.10.10.10/24" to
// { ip, prefix }, role defaults to each container's sizing, the gate's fixed settings added), and the
// files services ship are read, so nothing downstream looks anything up or parses it again.

import { BackupModel, resolveBackup } from "./backupModel";
import * as fs from "fs";
import * as path from "path";
import { parseCpuset } from "../lib/cpuset";
import { Ipv4Address, parseAddress } from "../lib/ipv4";
import { lxcInbound, vmInbound } from "./firewall";
import type { MonitoringModel } from "./monitoring";
import { probed } from "./rules/probe";
import { EnvironmentPolicy } from "./policy";
import { RoleOutbound, roleInbound, roleOutbound } from "./roleFirewall";
import { rolePurpose } from "./rolePurpose";
import { PROJECT_ROOT } from "./rules/workload";
import {
    BridgeConfig,
    EnvironmentConfig,
    EnvironmentName,
    GateSettings,
    gateSettings,
    GpuConfig,
    GuestNetworkConfig,
    InboundRule,
    LxcConfig,
    LxcRole,
    MirrorConfig,
    ModelGateConfig,
    NodeConfig,
    ParsedConfig,
    ProxmoxConfig,
    ServiceConfig,
    ThroughputProbeConfig,
    VmConfig,
} from "./schema";
import { LxcSizing, lxcSizing, sharedCpus } from "./sizing";

export interface GpuModel extends GpuConfig {
    /** Its nodes.<node>.gpus key: the PCI mapping's name part. */
    readonly name: string;
    readonly node: string;
}

export interface MirrorModel extends MirrorConfig {
    /** The Proxmox storage id (its nodes.<node>.mirrors key). */
    readonly storageId: string;
}

export interface BridgeModel extends BridgeConfig {
    readonly name: string;
}

/** A node as one environment sees it: its own hardware, and the host-wide facts both stacks write alike. */
export interface NodeModel {
    readonly name: string;
    readonly ssh: { readonly address: string; readonly port: number; readonly user: string; readonly hostKey?: string };
    readonly cpuVendor: "intel" | "amd";
    readonly memory: NodeConfig["memory"];
    /** Hugepages both environments reserve on the node, in GiB (a host-wide kernel argument). */
    readonly hugepagesGiB: number;
    /** Every GPU on the node, whichever environment owns it (the host-wide driver blacklist). */
    readonly allGpus: readonly GpuModel[];
    /** The GPUs, mirrors and bridges this environment owns here. */
    readonly gpus: readonly GpuModel[];
    readonly mirrors: readonly MirrorModel[];
    readonly bridges: readonly BridgeModel[];
}

export interface GuestNetworkModel {
    readonly bridge: string;
    /** The static address; undefined for DHCP. */
    readonly address?: Ipv4Address;
    readonly macAddress?: string;
}

/** A service with the contents of the files it ships, read once from the repository. */
export interface ServiceModel extends ServiceConfig {
    readonly fileContents: Readonly<Record<string, string>>;
}

export interface VmModel {
    readonly name: string;
    readonly vmid: number;
    readonly node: string;
    readonly description?: string;
    readonly gpu?: GpuModel;
    readonly cores: number;
    readonly cpus: readonly number[];
    readonly memoryGiB: number;
    /** The node's hugepage size when the VM's RAM is hugepage-backed; undefined otherwise. */
    readonly hugepages?: "2M" | "1G";
    readonly disk: VmConfig["disk"];
    readonly network: GuestNetworkModel;
    readonly image: VmConfig["image"];
    readonly cloudInit: VmConfig["cloudInit"];
    /** Its inbound rules on top of the environment baseline: its published ports, then its own rules. */
    readonly inbound: readonly InboundRule[];
    readonly services: Readonly<Record<string, ServiceModel>>;
    readonly models: readonly ModelGateConfig[];
    /** Undefined when the VM has no GPU or no models, or the gate is off. */
    readonly gate?: GateSettings;
    /** The continuous probe; undefined without a gate or a workload, or when it is off (rules/probe.ts). */
    readonly probe?: ThroughputProbeConfig;
    readonly protect: boolean;
    readonly startOnBoot: boolean;
}

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
    /** Backups (config/backupModel.ts); undefined when the stack declares none. */
    backup?: BackupModel;
}>;

export function resolveStack(cfg: ParsedConfig, stack: string, policy: EnvironmentPolicy): StackModel {
    const env = policy.environment;
    const touched = new Set([...Object.values(cfg.vms), ...Object.values(cfg.containers)].map((g) => g.node));
    const nodes = Object.entries(cfg.nodes)
        .map(([name, node]) => resolveNode(name, node, env))
        .filter((n) => n.gpus.length + n.mirrors.length + n.bridges.length > 0 || touched.has(n.name));
    return {
        stack,
        environment: env,
        policy,
        proxmox: cfg.proxmox,
        network: cfg.environments[env].network,
        nodes,
        vms: Object.entries(cfg.vms).map(([name, vm]) => resolveVm(name, vm, cfg, policy)),
        containers: Object.entries(cfg.containers).map(([name, ct]) =>
            resolveLxc(name, ct, policy, cfg.environments[env].network, sharedCpus(cfg.nodes[ct.node]), {
                proxmox: cfg.proxmox,
                nodeAddress: cfg.nodes[ct.node]?.address,
                nodesSsh: Object.values(cfg.nodes).map((n) => ({ address: n.address, port: n.sshPort })),
            }),
        ),
        ...(cfg.dockerSshKeyFile !== undefined ? { dockerSshKeyFile: cfg.dockerSshKeyFile } : {}),
        ...(cfg.backup ? { backup: resolveBackup(cfg, env) } : {}),
    };
}

export function resolveNode(name: string, node: NodeConfig, env: EnvironmentName): NodeModel {
    const allGpus = Object.entries(node.gpus).map(([gpuName, gpu]) => ({ ...gpu, name: gpuName, node: name }));
    const own = <T extends { environment: EnvironmentName }>(items: Record<string, T>) =>
        Object.entries(items).filter(([, item]) => item.environment === env);
    return {
        name,
        ssh: {
            address: node.address,
            port: node.sshPort,
            user: node.sshUser,
            ...(node.sshHostKey ? { hostKey: node.sshHostKey } : {}),
        },
        cpuVendor: node.cpu.vendor,
        memory: node.memory,
        hugepagesGiB: (node.allocations.private?.hugepagesGiB ?? 0) + (node.allocations.public?.hugepagesGiB ?? 0),
        allGpus,
        gpus: allGpus.filter((g) => g.environment === env),
        mirrors: own(node.mirrors).map(([storageId, m]) => ({ ...m, storageId })),
        bridges: own(node.bridges).map(([bridgeName, b]) => ({ ...b, name: bridgeName })),
    };
}

export function resolveNetwork(network: GuestNetworkConfig): GuestNetworkModel {
    return {
        bridge: network.bridge,
        ...(network.address === "dhcp" ? {} : { address: parseAddress(network.address) }),
        ...(network.macAddress ? { macAddress: network.macAddress } : {}),
    };
}

function resolveVm(name: string, vm: VmConfig, cfg: ParsedConfig, policy: EnvironmentPolicy): VmModel {
    const node = cfg.nodes[vm.node] as NodeConfig;
    const gpuConfig = vm.gpu === undefined ? undefined : node.gpus[vm.gpu];
    const gpu = gpuConfig && vm.gpu !== undefined ? { ...gpuConfig, name: vm.gpu, node: vm.node } : undefined;
    const gated = gpu !== undefined && vm.models.length > 0 && vm.throughputGate.enabled;
    return {
        name,
        vmid: vm.vmid,
        node: vm.node,
        ...(vm.description !== undefined ? { description: vm.description } : {}),
        ...(gpu ? { gpu } : {}),
        cores: vm.cores,
        cpus: parseCpuset(vm.cpuset),
        memoryGiB: vm.memoryGiB,
        ...(vm.hugepages ? { hugepages: node.memory.hugepageSize } : {}),
        disk: vm.disk,
        network: resolveNetwork(vm.network),
        image: vm.image,
        cloudInit: vm.cloudInit,
        inbound: vmInbound(vm, policy, cfg.environments[policy.environment].network),
        services: Object.fromEntries(Object.entries(vm.services).map(([n, s]) => [n, resolveService(s)])),
        models: vm.models,
        ...(gated ? { gate: gateSettings(vm.throughputGate) } : {}),
        ...(probed(vm) ? { probe: vm.throughputGate.probe } : {}),
        protect: vm.protect,
        startOnBoot: vm.startOnBoot,
    };
}

function resolveService(svc: ServiceConfig): ServiceModel {
    const fileContents = Object.fromEntries(
        svc.files.map((f) => [f.target, fs.readFileSync(path.join(PROJECT_ROOT, f.source), "utf8")]),
    );
    return { ...svc, fileContents };
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
        inbound: [...lxcInbound(ct, policy, network), ...roleInbound(ct, host?.nodeAddress)],
        ...(ct.postgres ? { postgres: ct.postgres } : {}),
        ...(ct.redis ? { redis: ct.redis } : {}),
        ...(ct.wireguard ? { wireguard: ct.wireguard } : {}),
        ...(ct.crowdsec ? { crowdsec: ct.crowdsec } : {}),
        ...(ct.runner ? { runner: ct.runner } : {}),
        ...(outbound ? { outbound } : {}),
        startOnBoot: ct.startOnBoot,
    };
}
