// The GPU VMs and service containers seen alike, for the rules that apply to every guest.

import { lxcSizing } from "../sizing";
import { guestKind } from "./gpuGuests";
import { LxcConfig, ParsedConfig, VmConfig } from "../schema";

export interface Guest {
    kind: "vms" | "containers";
    name: string;
    vmid: number;
    node: string;
    /** vCPUs (VMs) or effective cores (containers). */
    cores: number;
    memoryGiB: number;
    hugepages: boolean;
    /** A GPU guest of kind "container": no QEMU overhead. */
    lxc?: boolean;
    disk: { storage: string; sizeGiB: number };
    network: VmConfig["network"];
    firewall: VmConfig["firewall"];
}

export function guestsOf(cfg: ParsedConfig): Guest[] {
    const vms = Object.entries(cfg.vms).map(([name, vm]: [string, VmConfig]): Guest => ({
        kind: "vms",
        name,
        vmid: vm.vmid,
        node: vm.node,
        cores: vm.cores,
        memoryGiB: vm.memoryGiB,
        // A container's RAM is the host's page cache and anonymous memory: never hugepage-backed.
        hugepages: vm.hugepages && guestKind(cfg, vm) === "vm",
        ...(guestKind(cfg, vm) === "container" ? { lxc: true } : {}),
        disk: vm.disk,
        network: vm.network,
        firewall: vm.firewall,
    }));
    const lxcs = Object.entries(cfg.containers).map(([name, lxc]: [string, LxcConfig]): Guest => {
        const size = lxcSizing(lxc);
        return {
            kind: "containers",
            name,
            vmid: lxc.vmid,
            node: lxc.node,
            cores: size.cores,
            memoryGiB: size.memoryGiB,
            hugepages: false,
            disk: { storage: lxc.disk.storage, sizeGiB: size.diskGiB },
            network: lxc.network,
            firewall: lxc.firewall,
        };
    });
    return [...vms, ...lxcs];
}
