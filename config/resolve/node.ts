// A node as one environment sees it: its own GPUs, mirrors and bridges, and the host-wide facts
// (every GPU, both environments' hugepages) that either stack writes alike.

import { MemoryGuest, NodeMemoryFit, nodeMemoryFit } from "../memory";
import { EnvironmentName, BridgeConfig, GpuConfig, MirrorConfig, NodeConfig } from "../schema";

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
    /** The host's NVIDIA driver (nodes.<node>.nvidiaDriver), host-wide: for the cards with guest: container. */
    readonly nvidiaDriver?: NonNullable<NodeConfig["nvidiaDriver"]>;
    /** Hugepages both environments reserve on the node, in GiB (a host-wide kernel argument). */
    readonly hugepagesGiB: number;
    /** Every GPU on the node, whichever environment owns it (the host-wide driver blacklist). */
    readonly allGpus: readonly GpuModel[];
    /** The GPUs, mirrors and bridges this environment owns here. */
    readonly gpus: readonly GpuModel[];
    readonly mirrors: readonly MirrorModel[];
    readonly bridges: readonly BridgeModel[];
    /**
     * This environment's guests there against its share of the node: the host check walks them again
     * with the node's measured MemTotal (config/memory.ts). Undefined without an allocation there.
     */
    readonly memoryFit?: NodeMemoryFit;
}

/** `guests`: the stack's guests in config order (config/rules/guests.ts guestsOf), for memoryFit. */
export function resolveNode(
    name: string,
    node: NodeConfig,
    env: EnvironmentName,
    guests: readonly (MemoryGuest & { readonly node: string })[] = [],
): NodeModel {
    const memoryFit = nodeMemoryFit(name, node, env, guests);
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
        ...(node.nvidiaDriver ? { nvidiaDriver: node.nvidiaDriver } : {}),
        hugepagesGiB: (node.allocations.private?.hugepagesGiB ?? 0) + (node.allocations.public?.hugepagesGiB ?? 0),
        allGpus,
        gpus: allGpus.filter((g) => g.environment === env),
        mirrors: own(node.mirrors).map(([storageId, m]) => ({ ...m, storageId })),
        bridges: own(node.bridges).map(([bridgeName, b]) => ({ ...b, name: bridgeName })),
        ...(memoryFit ? { memoryFit } : {}),
    };
}
