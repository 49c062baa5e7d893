// Rules about where this stack's guests go: unique ids, names and addresses inside the environment's
// range and network, known nodes, bridges and mirrors, GPUs that exist and go to one VM each, and
// CPU pinning, RAM and disks that fit the environment's share of each node.

import { formatCpuset, parseCpuset } from "../../lib/cpuset";
import { memoryMisfits, plainMisfitWhat } from "../memory";
import { sharedCpus } from "../sizing";
import { containsIp, ipToNumber, parseCidr } from "../../lib/ipv4";
import { ENVIRONMENTS, EnvironmentName, NodeConfig, ParsedConfig } from "../schema";
import { guestKind } from "./gpuGuests";
import { Guest } from "./guests";
import { Add, list } from "./issues";

/** Shared facts: each environment's id range runs upwards and its gateway is inside its network. */
export function checkRanges(cfg: ParsedConfig, add: Add): void {
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
}

/** Ids, names and addresses are unique; ids inside the range. */
export function checkIdentities(cfg: ParsedConfig, env: EnvironmentName, guests: readonly Guest[], add: Add): void {
    const envCfg = cfg.environments[env];
    const vmids = new Map<number, string>();
    const names = new Map<string, string>();
    const addresses = new Map<number, string>();
    // A guest on its node's address would answer for the Proxmox host itself.
    for (const [name, node] of Object.entries(cfg.nodes)) {
        if (/^\d{1,3}(\.\d{1,3}){3}$/.test(node.address)) {
            addresses.set(ipToNumber(node.address), `node ${name} (nodes.${name}.address)`);
        }
    }
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
        if (!cfg.nodes[g.node] || g.network.address === "dhcp") continue;
        const ip = g.network.address.split("/")[0] as string;
        const seenIp = addresses.get(ipToNumber(ip));
        if (seenIp) add(`${at}.network.address`, `${ip} is already given to ${seenIp}`);
        addresses.set(ipToNumber(ip), at);
    }
}

/** The guest's node, bridge and mirror exist; a static address fits the environment's prefix. */
export function checkGuestPlacement(cfg: ParsedConfig, env: EnvironmentName, g: Guest, add: Add): void {
    const envCfg = cfg.environments[env];
    const at = `${g.kind}.${g.name}`;
    const node = cfg.nodes[g.node];
    if (!node) {
        add(`${at}.node`, `unknown node "${g.node}"; known nodes: ${list(Object.keys(cfg.nodes))}`);
        return;
    }
    const own = (items: Record<string, { environment: EnvironmentName }>) =>
        Object.entries(items)
            .filter(([, item]) => item.environment === env)
            .map(([n]) => n);
    if (!node.bridges[g.network.bridge]) {
        add(
            `${at}.network.bridge`,
            `no bridge "${g.network.bridge}" on node "${g.node}"; the ${env} bridges there: ${list(own(node.bridges))}`,
        );
    }
    if (!node.mirrors[g.disk.storage]) {
        add(
            `${at}.disk.storage`,
            `no mirror "${g.disk.storage}" on node "${g.node}"; the ${env} mirrors there: ${list(own(node.mirrors))}`,
        );
    }
    if (g.network.address === "dhcp") return;
    const envNet = parseCidr(envCfg.network.cidr);
    const ip = g.network.address.split("/")[0] as string;
    if (containsIp(envNet, ip) && parseCidr(g.network.address).prefix !== envNet.prefix) {
        add(
            `${at}.network.address`,
            `prefix /${g.network.address.split("/")[1]} differs from the ${env} network ${envCfg.network.cidr}; write it as ${ip}/${envNet.prefix}`,
        );
    }
    if (ip === envCfg.network.gateway) {
        add(`${at}.network.address`, `${ip} is the gateway of the ${env} network; pick another address`);
    }
}

/** A VM's GPU exists on its node and goes to that VM alone. */
export function checkGpuPlacement(cfg: ParsedConfig, add: Add): void {
    const holders = new Map<string, string>();
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        const node = cfg.nodes[vm.node];
        if (vm.gpu === undefined || !node) continue;
        const at = `vms.${vmName}.gpu`;
        const gpu = node.gpus[vm.gpu];
        if (!gpu) {
            const elsewhere = Object.entries(cfg.nodes).find(([, n]) => vm.gpu !== undefined && n.gpus[vm.gpu]);
            const hint = elsewhere
                ? `; it is on node "${elsewhere[0]}", so set vms.${vmName}.node to it`
                : `; GPUs on "${vm.node}": ${list(Object.keys(node.gpus))}`;
            add(at, `no GPU "${vm.gpu}" on node "${vm.node}"${hint}`);
            continue;
        }
        const seen = holders.get(vm.gpu);
        if (seen)
            add(
                at,
                `${vm.gpu} (${gpu.pciAddress}) already goes to ${seen}; a GPU belongs to one guest, VM or container`,
            );
        holders.set(vm.gpu, `${guestKind(cfg, vm) === "vm" ? "VM" : "container"} "${vmName}"`);
    }
}

/** CPU pinning, memory and disk capacity of this environment's guests, per node. */
export function checkCapacity(cfg: ParsedConfig, env: EnvironmentName, guests: readonly Guest[], add: Add): void {
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
        const where = { nodeName, node, env, alloc, here };
        checkPinning(cfg, where, add);
        checkMemory(where, add);
        checkDisks(where, add);
    }
}

interface NodeShare {
    nodeName: string;
    node: NodeConfig;
    env: EnvironmentName;
    alloc: NonNullable<NodeConfig["allocations"][EnvironmentName]>;
    here: readonly Guest[];
}

/** Pinned VMs stay inside the allocation and off each other's CPUs; containers fit it. */
function checkPinning(cfg: ParsedConfig, { nodeName, env, alloc, here }: NodeShare, add: Add): void {
    const allowed = parseCpuset(alloc.cpuset);
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
    // Containers run on the node's shared CPUs, beside the host (sizing.ts).
    const shared = sharedCpus(cfg.nodes[nodeName]);
    // Too few shared CPUs for the host itself is reported at nodes.<node>.allocations.
    const hostShort = shared.length < (cfg.nodes[nodeName]?.cpu.hostReservedCpus ?? 1);
    for (const lxc of here.filter((g) => g.kind === "containers" && !hostShort)) {
        if (lxc.cores > shared.length) {
            add(
                `containers.${lxc.name}.cores`,
                `${lxc.cores} cores exceed the ${shared.length} CPUs on "${nodeName}" that no allocation claims (${formatCpuset(shared)}), where the containers run beside the host`,
            );
        }
    }
}

/**
 * The guests in config order against the environment's share of the node (config/memory.ts, the walk
 * the host check repeats with the node's measured MemTotal); the first guest that does not fit is named.
 */
function checkMemory({ nodeName, node, env, alloc, here }: NodeShare, add: Add): void {
    const allocAt = `nodes.${nodeName}.allocations.${env}`;
    const share = {
        memoryGiB: alloc.memoryGiB,
        hugepagesGiB: alloc.hugepagesGiB,
        vmOverheadGiB: node.memory.vmOverheadGiB,
    };
    for (const m of memoryMisfits(share, here)) {
        const at = `${m.guest.kind}.${m.guest.name}.memoryGiB`;
        if (m.pool === "hugepages") {
            add(
                at,
                `${m.guest.memoryGiB} GiB of hugepages do not fit: ${allocAt}.hugepagesGiB reserves ${alloc.hugepagesGiB} GiB and the VMs before it take ${m.before}; shrink this VM, raise hugepagesGiB (and memoryGiB), or set hugepages: false`,
            );
        } else {
            add(
                at,
                `${plainMisfitWhat(m, nodeName)} does not fit: ${allocAt}.memoryGiB (${alloc.memoryGiB}) leaves ${m.room} GiB beside ${alloc.hugepagesGiB} GiB of hugepages, and the guests before it take ${m.before}; shrink a guest or raise memoryGiB`,
            );
        }
    }
    if (node.memory.hugepageSize !== "1G") return;
    for (const g of here.filter((x) => x.hugepages && !Number.isInteger(x.memoryGiB))) {
        add(`${g.kind}.${g.name}.memoryGiB`, `${g.memoryGiB} GiB is not a whole number of 1 GiB hugepages; round it`);
    }
}

/** Disks fit their mirror. */
function checkDisks({ nodeName, node, env, here }: NodeShare, add: Add): void {
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
