// Rules that span fields of the parsed config. Each finding names the config path and the fix.
// Plain functions over plain data: tested without Pulumi.

import { formatCpuset, parseCpuset } from "./cpuset";
import { addressOf, containsIp, containsNetwork, networksOverlap, parseCidr, ipToNumber } from "./net";
import { ENVIRONMENTS, EnvironmentName, LxcConfig, NodeConfig, ParsedConfig, VmConfig } from "./schema";
import { lxcSizing } from "./sizing";
import { canonicalName, modelSlug } from "../providers/ollama/names";

export interface ConfigIssue {
    /** Path under the `ai-dualstack` namespace, in `pulumi config --path` form. */
    path: string;
    message: string;
}

const other = (env: EnvironmentName): EnvironmentName => (env === "private" ? "public" : "private");

function list(items: Iterable<string>): string {
    const all = [...items];
    return all.length === 0 ? "none" : all.map((i) => `"${i}"`).join(", ");
}

/** Rules about the shared host facts (Pulumi.yaml): the same verdict for either stack. */
export function checkShared(cfg: ParsedConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const add = (path: string, message: string) => issues.push({ path, message });

    // Guest id ranges and networks of the two environments must not meet.
    for (const env of ENVIRONMENTS) {
        const { first, last } = cfg.environments[env].vmids;
        if (first > last) {
            add(`environments.${env}.vmids`, `first (${first}) is above last (${last}); swap them`);
        }
        const net = cfg.environments[env].network;
        if (!containsIp(parseCidr(net.cidr), net.gateway)) {
            add(
                `environments.${env}.network.gateway`,
                `${net.gateway} is outside ${net.cidr}; use an address inside the network`,
            );
        }
    }
    const [priv, pub] = [cfg.environments.private, cfg.environments.public];
    priv.network.trustedSources.forEach((source, i) => {
        const at = `environments.private.network.trustedSources[${i}]`;
        if (parseCidr(source).prefix < 8) {
            add(
                at,
                `${source} is far wider than a LAN or VPN; private guests are reachable only from the networks you name`,
            );
        } else if (networksOverlap(parseCidr(source), parseCidr(pub.network.cidr))) {
            add(
                at,
                `${source} overlaps the public network ${pub.network.cidr}; public guests must never reach private ones`,
            );
        }
    });
    if (priv.vmids.first <= pub.vmids.last && pub.vmids.first <= priv.vmids.last) {
        add(
            "environments.public.vmids",
            `${pub.vmids.first}-${pub.vmids.last} overlaps the private range ${priv.vmids.first}-${priv.vmids.last}; give each environment its own range`,
        );
    }
    if (networksOverlap(parseCidr(priv.network.cidr), parseCidr(pub.network.cidr))) {
        add(
            "environments.public.network.cidr",
            `${pub.network.cidr} overlaps the private network ${priv.network.cidr}; the environments need separate subnets`,
        );
    }

    const reserved = new Set(["local", "local-lvm", "local-zfs", cfg.proxmox.filesDatastore]);
    const storageOwners = new Map<string, string>();
    const gpuOwners = new Map<string, string>();
    for (const [nodeName, node] of Object.entries(cfg.nodes)) {
        const at = `nodes.${nodeName}`;
        checkNodeCpu(node, at, add);
        checkNodeMemory(node, at, add);
        checkNodeGpus(node, at, add);
        checkNodeStorage(node, at, add);
        checkNodeBridges(node, at, add);
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
    return issues;
}

type Add = (path: string, message: string) => void;

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
    const needed = allocated + node.memory.hostReservedGiB;
    if (needed > node.memory.totalGiB) {
        add(
            `${at}.memory`,
            `the environments (${allocated} GiB) plus the host reserve (${node.memory.hostReservedGiB} GiB) need ${needed} GiB, but the node has ${node.memory.totalGiB} GiB; shrink an allocation`,
        );
    }
    if (node.memory.zfsArcMaxGiB !== undefined && node.memory.zfsArcMaxGiB >= node.memory.hostReservedGiB) {
        add(
            `${at}.memory.zfsArcMaxGiB`,
            `the ARC cap (${node.memory.zfsArcMaxGiB} GiB) must fit inside hostReservedGiB (${node.memory.hostReservedGiB} GiB), or Proxmox runs out of RAM`,
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

interface Guest {
    kind: "vms" | "containers";
    name: string;
    vmid: number;
    node: string;
    memoryGiB: number;
    hugepages: boolean;
    disk: { storage: string; sizeGiB: number };
    network: VmConfig["network"];
    firewall: VmConfig["firewall"];
}

function guestsOf(cfg: ParsedConfig): Guest[] {
    const vms = Object.entries(cfg.vms).map(([name, vm]: [string, VmConfig]): Guest => ({
        kind: "vms",
        name,
        vmid: vm.vmid,
        node: vm.node,
        memoryGiB: vm.memoryGiB,
        hugepages: vm.hugepages,
        disk: vm.disk,
        network: vm.network,
        firewall: vm.firewall,
    }));
    const cts = Object.entries(cfg.containers).map(([name, ct]: [string, LxcConfig]): Guest => {
        const size = lxcSizing(ct);
        return {
            kind: "containers",
            name,
            vmid: ct.vmid,
            node: ct.node,
            memoryGiB: size.memoryGiB,
            hugepages: false,
            disk: { storage: ct.disk.storage, sizeGiB: size.diskGiB },
            network: ct.network,
            firewall: ct.firewall,
        };
    });
    return [...vms, ...cts];
}

/** Rules about this stack's guests, seen from its environment. */
export function checkGuests(cfg: ParsedConfig, env: EnvironmentName): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const add = (path: string, message: string) => issues.push({ path, message });
    const envCfg = cfg.environments[env];
    const envNet = parseCidr(envCfg.network.cidr);
    const guests = guestsOf(cfg);

    const vmids = new Map<number, string>();
    const names = new Map<string, string>();
    const addresses = new Map<number, string>();
    for (const g of guests) {
        const at = `${g.kind}.${g.name}`;
        const seenId = vmids.get(g.vmid);
        if (seenId) add(`${at}.vmid`, `${g.vmid} is already used by ${seenId}; guest ids must be unique`);
        vmids.set(g.vmid, at);
        const seenName = names.get(g.name);
        if (seenName)
            add(
                at,
                `the name "${g.name}" is already used by ${seenName}; guest names become host names and must be unique`,
            );
        names.set(g.name, at);
        if (g.vmid < envCfg.vmids.first || g.vmid > envCfg.vmids.last) {
            add(
                `${at}.vmid`,
                `${g.vmid} is outside the ${env} range ${envCfg.vmids.first}-${envCfg.vmids.last} (environments.${env}.vmids); pick an id inside it`,
            );
        }

        const node = cfg.nodes[g.node];
        if (!node) {
            add(`${at}.node`, `unknown node "${g.node}"; known nodes: ${list(Object.keys(cfg.nodes))}`);
            continue;
        }

        const bridge = node.bridges[g.network.bridge];
        if (!bridge) {
            const own = Object.entries(node.bridges)
                .filter(([, b]) => b.environment === env)
                .map(([n]) => n);
            add(
                `${at}.network.bridge`,
                `no bridge "${g.network.bridge}" on node "${g.node}"; the ${env} bridges there: ${list(own)}`,
            );
        } else if (bridge.environment !== env) {
            add(
                `${at}.network.bridge`,
                `${g.network.bridge} is a ${bridge.environment} bridge; a ${env} guest must sit on a ${env} bridge`,
            );
        }
        if (g.network.address !== "dhcp") {
            const ip = addressOf(g.network.address);
            if (!containsIp(envNet, ip)) {
                add(
                    `${at}.network.address`,
                    `${ip} is outside the ${env} network ${envCfg.network.cidr}; use an address inside it`,
                );
            } else if (parseCidr(g.network.address).prefix !== envNet.prefix) {
                add(
                    `${at}.network.address`,
                    `prefix /${g.network.address.split("/")[1]} differs from the ${env} network ${envCfg.network.cidr}; write it as ${ip}/${envNet.prefix}`,
                );
            }
            if (ip === envCfg.network.gateway) {
                add(`${at}.network.address`, `${ip} is the gateway of the ${env} network; pick another address`);
            }
            const n = ipToNumber(ip);
            const seenIp = addresses.get(n);
            if (seenIp) add(`${at}.network.address`, `${ip} is already given to ${seenIp}`);
            addresses.set(n, at);
        }

        const mirror = node.mirrors[g.disk.storage];
        if (!mirror) {
            const own = Object.entries(node.mirrors)
                .filter(([, m]) => m.environment === env)
                .map(([n]) => n);
            add(
                `${at}.disk.storage`,
                `no mirror "${g.disk.storage}" on node "${g.node}"; the ${env} mirrors there: ${list(own)}`,
            );
        } else if (mirror.environment !== env) {
            add(
                `${at}.disk.storage`,
                `${g.disk.storage} is the ${mirror.environment} mirror; a ${env} guest must use a ${env} mirror`,
            );
        }

        if (env === "private") {
            g.firewall.inbound.forEach((rule, i) => {
                const trusted = envCfg.network.trustedSources.map(parseCidr);
                const inside = rule.source !== "any" && trusted.some((t) => containsNetwork(t, parseCidr(rule.source)));
                if (!inside) {
                    add(
                        `${at}.firewall.inbound[${i}].source`,
                        `"${rule.source}" is not inside environments.private.network.trustedSources (${envCfg.network.trustedSources.join(", ")}); private guests are reachable only over LAN/VPN`,
                    );
                }
            });
        }
    }

    checkGpus(cfg, env, add);
    checkModels(cfg, add);
    checkPlacement(cfg, env, guests, add);
    return issues;
}

/** The throughput gate measures on the VM's GPU, one model at a time. */
function checkModels(cfg: ParsedConfig, add: Add): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        if (vm.models.length === 0) continue;
        const at = `vms.${vmName}.models`;
        if (vm.gpu === undefined) {
            add(
                at,
                `the throughput gate measures models on the VM's GPU, and this VM has none; set vms.${vmName}.gpu or remove its models`,
            );
            continue;
        }
        if (vm.network.address === "dhcp" && vm.throughputGate.enabled && vm.throughputGate.endpoint === undefined) {
            add(
                `vms.${vmName}.throughputGate.endpoint`,
                `the VM takes its address by DHCP, so the gate cannot know where Ollama listens; set it (such as "http://ai.lan:11434") or give the VM a static address`,
            );
        }
        const seen = new Map<string, number>();
        const slugs = new Map<string, number>();
        vm.models.forEach((m, i) => {
            const key = canonicalName(m.name);
            const first = seen.get(key);
            const sameSlug = slugs.get(modelSlug(m.name));
            if (first !== undefined)
                add(`${at}[${i}].name`, `${m.name} is already gated at ${at}[${first}]; list each model once`);
            else if (sameSlug !== undefined)
                add(
                    `${at}[${i}].name`,
                    `${m.name} and ${at}[${sameSlug}] (${vm.models[sameSlug]?.name}) would share the gate's resource name "${modelSlug(m.name)}"; gate one of them`,
                );
            if (first === undefined) seen.set(key, i);
            if (sameSlug === undefined) slugs.set(modelSlug(m.name), i);
        });
    }
}

function checkGpus(cfg: ParsedConfig, env: EnvironmentName, add: Add): void {
    const holders = new Map<string, string>();
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        if (vm.gpu === undefined) continue;
        const at = `vms.${vmName}.gpu`;
        const node = cfg.nodes[vm.node];
        if (!node) continue;
        const gpu = node.gpus[vm.gpu];
        if (!gpu) {
            const elsewhere = Object.entries(cfg.nodes).find(([, n]) => vm.gpu !== undefined && n.gpus[vm.gpu]);
            const hint = elsewhere
                ? `; it is on node "${elsewhere[0]}", so set vms.${vmName}.node to it`
                : `; GPUs on "${vm.node}": ${list(Object.keys(node.gpus))}`;
            add(at, `no GPU "${vm.gpu}" on node "${vm.node}"${hint}`);
            continue;
        }
        if (gpu.environment !== env) {
            add(
                at,
                `${vm.gpu} (${gpu.model}) belongs to the ${gpu.environment} environment (nodes.${vm.node}.gpus.${vm.gpu}.environment); a GPU never serves both environments`,
            );
        }
        const seen = holders.get(vm.gpu);
        if (seen)
            add(at, `${vm.gpu} (${gpu.pciAddress}) is already passed through to vm "${seen}"; a GPU goes to one VM`);
        holders.set(vm.gpu, vmName);
    }
}

/** CPU pinning, memory and disk capacity of this environment's guests, per node. */
function checkPlacement(cfg: ParsedConfig, env: EnvironmentName, guests: Guest[], add: Add): void {
    for (const [nodeName, node] of Object.entries(cfg.nodes)) {
        const here = guests.filter((g) => g.node === nodeName);
        if (here.length === 0) continue;
        const alloc = node.allocations[env];
        if (!alloc) {
            add(
                `nodes.${nodeName}.allocations.${env}`,
                `the ${env} environment has guests on "${nodeName}" but no allocation there; give it a cpuset and memoryGiB`,
            );
            continue;
        }
        const allowed = parseCpuset(alloc.cpuset);

        // Pinned VMs stay inside the allocation and off each other's CPUs.
        const pinned = new Map<number, string>();
        for (const [vmName, vm] of Object.entries(cfg.vms).filter(([, v]) => v.node === nodeName)) {
            const at = `vms.${vmName}`;
            const cpus = parseCpuset(vm.cpuset);
            const outside = cpus.filter((c) => !allowed.includes(c));
            if (outside.length > 0) {
                add(
                    `${at}.cpuset`,
                    `CPUs ${formatCpuset(outside)} are outside the ${env} allocation ${alloc.cpuset} (nodes.${nodeName}.allocations.${env}.cpuset)`,
                );
            }
            if (cpus.length < vm.cores) {
                add(
                    `${at}.cpuset`,
                    `${vm.cpuset} pins ${cpus.length} CPUs for ${vm.cores} cores; pin at least as many CPUs as cores`,
                );
            }
            const clash = cpus.filter((c) => pinned.has(c));
            if (clash.length > 0) {
                const owner = pinned.get(clash[0] as number);
                add(
                    `${at}.cpuset`,
                    `CPUs ${formatCpuset(clash)} are already pinned to ${owner}; pinned sets must not overlap`,
                );
            }
            cpus.forEach((c) => pinned.set(c, `vms.${vmName}`));
        }
        for (const [ctName, ct] of Object.entries(cfg.containers).filter(([, c]) => c.node === nodeName)) {
            const cores = lxcSizing(ct).cores;
            if (cores > allowed.length) {
                add(
                    `containers.${ctName}.cores`,
                    `${cores} cores exceed the ${allowed.length} CPUs of the ${env} allocation on "${nodeName}"`,
                );
            }
        }

        // Hugepage-backed RAM comes from the reserved pool; the rest from the remainder.
        const huge = here.filter((g) => g.hugepages);
        const hugeGiB = huge.reduce((sum, g) => sum + g.memoryGiB, 0);
        const plainGiB = here.filter((g) => !g.hugepages).reduce((sum, g) => sum + g.memoryGiB, 0);
        if (hugeGiB > alloc.hugepagesGiB) {
            add(
                `nodes.${nodeName}.allocations.${env}.hugepagesGiB`,
                `the ${env} VMs with hugepages need ${hugeGiB} GiB (${huge.map((g) => g.name).join(", ")}) but ${alloc.hugepagesGiB} GiB are reserved; raise hugepagesGiB or set hugepages: false on a VM`,
            );
        }
        if (plainGiB > alloc.memoryGiB - alloc.hugepagesGiB) {
            add(
                `nodes.${nodeName}.allocations.${env}.memoryGiB`,
                `the ${env} guests without hugepages need ${plainGiB} GiB, but only ${alloc.memoryGiB - alloc.hugepagesGiB} GiB of memoryGiB (${alloc.memoryGiB}) is left beside ${alloc.hugepagesGiB} GiB of hugepages; shrink a guest or raise memoryGiB`,
            );
        }
        if (node.memory.hugepageSize === "1G") {
            for (const g of huge) {
                if (!Number.isInteger(g.memoryGiB)) {
                    add(
                        `${g.kind}.${g.name}.memoryGiB`,
                        `${g.memoryGiB} GiB is not a whole number of 1 GiB hugepages; round it`,
                    );
                }
            }
        }

        // Disks fit their mirror.
        for (const [storageId, mirror] of Object.entries(node.mirrors)) {
            const users = here.filter((g) => g.disk.storage === storageId);
            const used = users.reduce((sum, g) => sum + g.disk.sizeGiB, 0);
            if (used > mirror.sizeGiB) {
                add(
                    `nodes.${nodeName}.mirrors.${storageId}.sizeGiB`,
                    `the ${env} guest disks need ${used} GiB (${users.map((g) => `${g.name} ${g.disk.sizeGiB}`).join(", ")}) but the mirror holds ${mirror.sizeGiB} GiB; shrink a disk or use a bigger mirror`,
                );
            }
        }
    }
}
