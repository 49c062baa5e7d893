// A synthetic private-stack config of N guests spread over several nodes: one GPU VM per node,
// the rest service containers. Valid by construction (tests/bench/generate.stack.test.ts checks it).

export interface GeneratedConfig {
    /** Bare config keys that replace the committed files' values. */
    overrides: Record<string, unknown>;
    guests: number;
}

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchmarkKeyNotForUse000000000000 bench@ai-dualstack";
const ROLES = ["postgresql", "redis", "security", "monitoring", "backup"] as const;

/** Node n: 32 threads, 256 GiB, one RTX 5090, one mirror and one VLAN bridge, all private. */
function benchNode(n: number): Record<string, unknown> {
    return {
        address: `192.168.1.${10 + n}`,
        cpu: { vendor: "intel", model: "bench", threads: 32, hostReservedCpus: 2 },
        memory: { totalGiB: 256, hostReservedGiB: 16, hugepageSize: "1G" },
        allocations: { private: { cpuset: "2-31", memoryGiB: 200, hugepagesGiB: 32 } },
        gpus: {
            [`gpu${n}`]: {
                model: "NVIDIA GeForce RTX 5090",
                environment: "private",
                pciAddress: "0000:01:00.0",
                vendorDeviceId: "10de:2b85",
                subsystemId: "1458:416f",
                iommuGroup: 14,
                vramGiB: 32,
                memoryBandwidthGBs: 1792,
                functions: [{ pciAddress: "0000:01:00.1", vendorDeviceId: "10de:22e8", subsystemId: "1458:416f" }],
            },
        },
        mirrors: {
            [`tank-${n}`]: {
                environment: "private",
                pool: `tank${n}`,
                disks: [`/dev/disk/by-id/nvme-bench-${n}-a`, `/dev/disk/by-id/nvme-bench-${n}-b`],
                sizeGiB: 4000,
            },
        },
        bridges: { vmbr1: { environment: "private", uplink: "enp5s0", vlan: 10 } },
    };
}

export function generateConfig(guests: number, guestsPerNode = 16): GeneratedConfig {
    if (guests < 1 || guests > 95) throw new Error("between 1 and 95 guests fit the private id range");
    const nodeCount = Math.ceil(guests / guestsPerNode);
    const nodes: Record<string, unknown> = {};
    const vms: Record<string, unknown> = {};
    const containers: Record<string, unknown> = {};
    let placed = 0;
    for (let n = 1; n <= nodeCount; n++) {
        const node = `pve${n}`;
        nodes[node] = benchNode(n);
        const onNode = Math.min(guestsPerNode, guests - placed);
        for (let g = 0; g < onNode; g++, placed++) {
            const common = {
                vmid: 100 + placed,
                node,
                network: { bridge: "vmbr1", address: `10.10.10.${10 + placed}/24` },
            };
            if (g === 0) {
                vms[`vm-${node}`] = {
                    ...common,
                    gpu: `gpu${n}`,
                    cores: 8,
                    cpuset: "2-9",
                    memoryGiB: 32,
                    disk: { storage: `tank-${n}`, sizeGiB: 200 },
                    cloudInit: { sshPublicKeys: [KEY] },
                };
            } else {
                containers[`ct-${placed}`] = {
                    ...common,
                    role: ROLES[placed % ROLES.length],
                    memoryGiB: 1,
                    disk: { storage: `tank-${n}`, sizeGiB: 16 },
                    sshPublicKeys: [KEY],
                };
            }
        }
    }
    // Every guest in the backup job (the rule requires the stateful ones), to a PBS of another stack.
    const backup = {
        pbs: {
            server: "10.10.10.25",
            fingerprint: Array(32).fill("00").join(":"),
            passwordSecret: "pbsPrivatePassword",
        },
        guests: [...Object.keys(vms), ...Object.keys(containers)],
    };
    return { overrides: { nodes, vms, containers, backup }, guests };
}
