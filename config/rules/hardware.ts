// Rules about the hardware in the shared host facts (Pulumi.yaml): CPUs and RAM per node, GPUs and
// their IOMMU groups, NVMe mirrors, bridges and VLANs. The same verdict for either stack.

import { formatCpuset, parseCpuset } from "../../lib/cpuset";
import { ENVIRONMENTS, EnvironmentName, NodeConfig, ParsedConfig } from "../schema";
import { arcMaxGiB, guestBudgetGiB } from "../sizing";
import { Add } from "./issues";

const other = (env: EnvironmentName): EnvironmentName => (env === ENVIRONMENTS[0] ? ENVIRONMENTS[1] : ENVIRONMENTS[0]);

export function checkHardware(cfg: ParsedConfig, add: Add): void {
    for (const [nodeName, node] of Object.entries(cfg.nodes)) {
        // Each node's checks, in the order their findings are reported.
        for (const check of [checkNodeCpu, checkNodeMemory, checkNodeGpus, checkNodeStorage, checkNodeBridges]) {
            check(node, `nodes.${nodeName}`, add);
        }
    }
    checkClusterNames(cfg, add);
}

/** GPU names name PCI mappings and storage ids are cluster-wide: both unique across nodes. */
function checkClusterNames(cfg: ParsedConfig, add: Add): void {
    const reserved = new Set(["local", "local-lvm", "local-zfs", cfg.proxmox.filesDatastore]);
    const storageOwners = new Map<string, string>();
    const gpuOwners = new Map<string, string>();
    for (const [nodeName, node] of Object.entries(cfg.nodes)) {
        const at = `nodes.${nodeName}`;
        for (const gpuName of Object.keys(node.gpus)) {
            const seen = gpuOwners.get(gpuName);
            if (seen)
                add(
                    `${at}.gpus.${gpuName}`,
                    `the GPU name is already used on node "${seen}"; GPU names name PCI mappings and must be unique in the cluster`,
                );
            gpuOwners.set(gpuName, nodeName);
        }
        for (const storageId of Object.keys(node.mirrors)) {
            if (reserved.has(storageId)) {
                add(
                    `${at}.mirrors.${storageId}`,
                    `"${storageId}" is a storage Proxmox already has (or proxmox.filesDatastore); name the mirror's storage something else, such as "tank-private"`,
                );
            }
            const seen = storageOwners.get(storageId);
            if (seen)
                add(
                    `${at}.mirrors.${storageId}`,
                    `storage id is already used on node "${seen}"; Proxmox storage ids are cluster-wide, pick another`,
                );
            storageOwners.set(storageId, nodeName);
        }
    }
}

function checkNodeCpu(node: NodeConfig, at: string, add: Add): void {
    const claimed = new Map<number, EnvironmentName>();
    for (const env of ENVIRONMENTS) {
        const alloc = node.allocations[env];
        if (!alloc) continue;
        const cpus = parseCpuset(alloc.cpuset);
        const outside = cpus.filter((c) => c >= node.cpu.threads);
        if (outside.length > 0) {
            add(
                `${at}.allocations.${env}.cpuset`,
                `CPUs ${formatCpuset(outside)} do not exist: the node has ${node.cpu.threads} (0-${node.cpu.threads - 1})`,
            );
        }
        const shared = cpus.filter((c) => claimed.has(c));
        if (shared.length > 0) {
            add(
                `${at}.allocations.${env}.cpuset`,
                `CPUs ${formatCpuset(shared)} are also allocated to ${other(env)}; the environments need disjoint CPU sets`,
            );
        }
        cpus.forEach((c) => claimed.set(c, env));
    }
    const free = node.cpu.threads - [...claimed.keys()].filter((c) => c < node.cpu.threads).length;
    if (free < node.cpu.hostReservedCpus) {
        add(
            `${at}.allocations`,
            `the environments claim all but ${free} of ${node.cpu.threads} CPUs, but cpu.hostReservedCpus keeps ${node.cpu.hostReservedCpus} for Proxmox; shrink a cpuset`,
        );
    }
}

function checkNodeMemory(node: NodeConfig, at: string, add: Add): void {
    let allocated = 0;
    for (const env of ENVIRONMENTS) {
        const alloc = node.allocations[env];
        if (!alloc) continue;
        allocated += alloc.memoryGiB;
        if (alloc.hugepagesGiB > alloc.memoryGiB) {
            add(
                `${at}.allocations.${env}.hugepagesGiB`,
                `${alloc.hugepagesGiB} GiB of hugepages exceeds the environment's memoryGiB (${alloc.memoryGiB}); hugepages are part of it`,
            );
        }
        if (node.memory.hugepageSize === "1G" && !Number.isInteger(alloc.hugepagesGiB)) {
            add(
                `${at}.allocations.${env}.hugepagesGiB`,
                `${alloc.hugepagesGiB} is not a whole number of 1 GiB pages; round it, or set memory.hugepageSize to "2M"`,
            );
        }
    }
    const budget = guestBudgetGiB(node.memory);
    if (allocated > budget) {
        const { totalGiB, hostReservedGiB } = node.memory;
        add(
            `${at}.allocations`,
            `the environments' memoryGiB add up to ${allocated} GiB, but the node has ${budget} GiB for guests: memory.totalGiB ${totalGiB} (MemTotal) less the ZFS ARC maximum (${arcMaxGiB(node.memory)} GiB) and hostReservedGiB (${hostReservedGiB} GiB); shrink an environment's memoryGiB`,
        );
    }
}

function checkNodeGpus(node: NodeConfig, at: string, add: Add): void {
    const addresses = new Map<string, string>();
    const groups = new Map<number, { gpu: string; env: EnvironmentName }>();
    for (const [gpuName, gpu] of Object.entries(node.gpus)) {
        const fns = [gpu.pciAddress, ...gpu.functions.map((f) => f.pciAddress)];
        fns.forEach((address, i) => {
            const path =
                i === 0 ? `${at}.gpus.${gpuName}.pciAddress` : `${at}.gpus.${gpuName}.functions[${i - 1}].pciAddress`;
            const seen = addresses.get(address);
            if (seen)
                add(path, `${address} is already listed for GPU "${seen}"; each PCI function belongs to one card`);
            addresses.set(address, gpuName);
            if (i > 0 && address.slice(0, -2) !== gpu.pciAddress.slice(0, -2)) {
                add(
                    path,
                    `${address} is not a function of ${gpu.pciAddress}: functions share the bus:device part (${gpu.pciAddress.slice(0, -2)}.N)`,
                );
            }
        });
        const group = groups.get(gpu.iommuGroup);
        if (group && group.env !== gpu.environment) {
            add(
                `${at}.gpus.${gpuName}.iommuGroup`,
                `group ${gpu.iommuGroup} also holds GPU "${group.gpu}" of the ${group.env} environment; a group passes through as a whole, so the two cards cannot go to different environments (move a card to another slot, or check the ACS settings in the BIOS)`,
            );
        } else if (group) {
            add(
                `${at}.gpus.${gpuName}.iommuGroup`,
                `group ${gpu.iommuGroup} also holds GPU "${group.gpu}"; a group passes through as a whole, so both cards can only go to one VM (move a card to another slot)`,
            );
        }
        groups.set(gpu.iommuGroup, { gpu: gpuName, env: gpu.environment });
    }
}

function checkNodeStorage(node: NodeConfig, at: string, add: Add): void {
    const disks = new Map<string, string>();
    const pools = new Map<string, string>();
    for (const [storageId, mirror] of Object.entries(node.mirrors)) {
        if (mirror.disks && mirror.pool.includes("/")) {
            add(
                `${at}.mirrors.${storageId}.pool`,
                `"${mirror.pool}" is a dataset path; a new pool's name has no "/" (leave disks out to register an existing dataset)`,
            );
        }
        const seenPool = pools.get(mirror.pool);
        if (seenPool)
            add(
                `${at}.mirrors.${storageId}.pool`,
                `pool "${mirror.pool}" is also storage "${seenPool}"; each mirror is its own pool`,
            );
        pools.set(mirror.pool, storageId);
        (mirror.disks ?? []).forEach((disk, i) => {
            const seen = disks.get(disk);
            if (seen)
                add(
                    `${at}.mirrors.${storageId}.disks[${i}]`,
                    `${disk} is already a member of mirror "${seen}"; a disk can be in one pool only`,
                );
            disks.set(disk, storageId);
        });
    }
}

function checkNodeBridges(node: NodeConfig, at: string, add: Add): void {
    const wires = new Map<string, { bridge: string; env: EnvironmentName }>();
    for (const [bridgeName, bridge] of Object.entries(node.bridges)) {
        if (bridgeName === node.managementBridge) {
            add(
                `${at}.bridges.${bridgeName}`,
                `${bridgeName} is the management bridge (managementBridge); these stacks never touch it, so an apply cannot cut your link to the host. Use another vmbrN`,
            );
        }
        if (bridge.vlan !== undefined && bridge.uplink === undefined) {
            add(
                `${at}.bridges.${bridgeName}.vlan`,
                `a VLAN needs an uplink to tag traffic on; set uplink, or remove vlan for a host-internal bridge`,
            );
        }
        if (bridge.uplink === undefined) continue;
        if (bridge.vlan !== undefined && `${bridge.uplink}.${bridge.vlan}`.length > 15) {
            add(
                `${at}.bridges.${bridgeName}.vlan`,
                `the VLAN interface ${bridge.uplink}.${bridge.vlan} would be longer than Linux's 15 characters; use a shorter uplink name (an altname) or VLAN id`,
            );
        }
        // One physical wire, one L2 segment: two bridges on the same uplink need different tags.
        const wire = `${bridge.uplink}.${bridge.vlan ?? "untagged"}`;
        const seen = wires.get(wire);
        if (seen) {
            const what =
                bridge.vlan === undefined
                    ? `untagged traffic of ${bridge.uplink}`
                    : `VLAN ${bridge.vlan} on ${bridge.uplink}`;
            const why =
                seen.env === bridge.environment
                    ? "two bridges cannot share one segment"
                    : `that would join the ${seen.env} and ${bridge.environment} networks`;
            add(
                `${at}.bridges.${bridgeName}`,
                `${what} is already bridged by ${seen.bridge}; ${why}. Give each bridge its own uplink or VLAN`,
            );
        }
        wires.set(wire, { bridge: bridgeName, env: bridge.environment });
    }
}
