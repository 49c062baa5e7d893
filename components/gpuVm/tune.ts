// The root-only settings of a GPU VM (CPU affinity, hugepages), applied with `qm` over root SSH
// because Proxmox lets only root@pam set them, then the VM's start once the host is ready.

import { formatCpuset } from "../../lib/cpuset";

export interface TuneArgs {
    vmid: number;
    /** The host CPUs the VM is pinned to. */
    cpus: readonly number[];
    /** The hugepage size backing the VM's RAM, or undefined for none. */
    hugepages?: "2M" | "1G";
    /** Start the VM now (the host is ready), or leave it stopped. */
    start: boolean;
}

/** Proxmox's `hugepages` value for a page size. */
export function hugepagesValue(size: "2M" | "1G"): string {
    return size === "1G" ? "1024" : "2";
}

export function renderTuneScript(t: TuneArgs): string {
    const memory =
        t.hugepages === undefined
            ? "--delete hugepages,keephugepages"
            : `--hugepages ${hugepagesValue(t.hugepages)} --keephugepages 0`;
    const lines = [
        "set -euo pipefail",
        `qm set ${t.vmid} --affinity ${formatCpuset(t.cpus)} ${memory}`,
        t.start
            ? `if qm status ${t.vmid} | grep -q running; then echo "ai-dualstack: VM ${t.vmid} is running"; else qm start ${t.vmid} && echo "ai-dualstack: started VM ${t.vmid}"; fi`
            : `echo "ai-dualstack: VM ${t.vmid} stays stopped until the host reboot (see the hosts output); run pulumi up again after it"`,
    ];
    return `${lines.join("\n")}\n`;
}

/** The plan's summary line of the tune step. */
export function describeTune(t: Omit<TuneArgs, "start">): string {
    const huge = t.hugepages === undefined ? "no hugepages" : `hugepages ${t.hugepages}`;
    return `VM ${t.vmid}: pinned ${formatCpuset(t.cpus)}, ${huge} (root-only, via qm) | starts it once the host check passes`;
}
