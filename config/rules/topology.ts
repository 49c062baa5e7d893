// Rules for hybrid CPUs (nodes.<node>.cpu.topology): the topology itself is sound, and a VM's pinned
// CPUs are all of one core type, on E-cores whole clusters. A guest scheduler treats every vCPU
// alike, so a VM on P- and E-cores runs at the E-cores' pace; E-cores share L2 per cluster of four,
// so half a cluster shares its cache with whatever runs on the other half.

import { formatCpuset, parseCpuset } from "../../lib/cpuset";
import { NodeConfig, ParsedConfig } from "../schema";
import { Add } from "./issues";

type Topology = NonNullable<NodeConfig["cpu"]["topology"]>;

/** Each CPU in one group at most, every group inside the node. */
export function checkTopology(cfg: ParsedConfig, add: Add): void {
    for (const [nodeName, node] of Object.entries(cfg.nodes)) {
        const topology = node.cpu.topology;
        if (!topology) continue;
        const at = `nodes.${nodeName}.cpu.topology`;
        const seen = new Map<number, string>();
        const groups: [string, number[]][] = [
            [`${at}.performance`, parseCpuset(topology.performance)],
            ...topology.efficiencyClusters.map((c, i): [string, number[]] => [
                `${at}.efficiencyClusters[${i}]`,
                parseCpuset(c),
            ]),
        ];
        for (const [path, cpus] of groups) {
            const outside = cpus.filter((c) => c >= node.cpu.threads);
            if (outside.length > 0) {
                add(
                    path,
                    `CPUs ${formatCpuset(outside)} do not exist: the node has ${node.cpu.threads} (0-${node.cpu.threads - 1})`,
                );
            }
            const twice = cpus.filter((c) => seen.has(c));
            if (twice.length > 0) {
                add(
                    path,
                    `CPUs ${formatCpuset(twice)} are already listed at ${seen.get(twice[0] as number) ?? ""}; a CPU is of one type, in one cluster`,
                );
            }
            cpus.forEach((c) => seen.set(c, path));
        }
    }
}

/** The clusters of E-cores, and the P-cores, as CPU lists. */
function groupsOf(topology: Topology): { performance: number[]; clusters: number[][] } {
    return {
        performance: parseCpuset(topology.performance),
        clusters: topology.efficiencyClusters.map((c) => parseCpuset(c)),
    };
}

/** A VM's pinning on a hybrid CPU: one core type; on E-cores, whole clusters. */
export function checkHybridPinning(cfg: ParsedConfig, add: Add): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        const topology = cfg.nodes[vm.node]?.cpu.topology;
        if (!topology) continue;
        const at = `vms.${vmName}.cpuset`;
        const cpus = parseCpuset(vm.cpuset);
        const { performance, clusters } = groupsOf(topology);
        const onP = cpus.filter((c) => performance.includes(c));
        const onE = cpus.filter((c) => clusters.some((cl) => cl.includes(c)));
        if (onP.length > 0 && onE.length > 0) {
            add(
                at,
                `${vm.cpuset} mixes P-cores (${formatCpuset(onP)}) and E-cores (${formatCpuset(onE)}); the guest treats every vCPU alike, so pin a VM to one core type (nodes.${vm.node}.cpu.topology)`,
            );
            continue;
        }
        for (const cluster of clusters) {
            const taken = cluster.filter((c) => cpus.includes(c));
            if (taken.length > 0 && taken.length < cluster.length) {
                add(
                    at,
                    `${vm.cpuset} takes ${formatCpuset(taken)} of the E-core cluster ${formatCpuset(cluster)}, whose cores share one L2 cache; take the whole cluster or none of it`,
                );
            }
        }
    }
}
