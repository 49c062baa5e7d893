// The monitoring settings against the stack that runs them: the container is a monitoring one at the
// configured address, retention fits its disk, and the secrets it names exist. Each peer stack's file
// is loaded and checked once, by config/load.ts.

import { ParsedConfig } from "../schema";
import { lxcSizing } from "../sizing";
import { Add } from "./issues";

/** Disk the container keeps free besides Prometheus's samples: the OS, Grafana, Alertmanager. */
export const MONITORING_DISK_HEADROOM_GIB = 4;

export function checkMonitoring(cfg: ParsedConfig, add: Add): void {
    const mon = cfg.monitoring;
    const lxc = mon ? cfg.containers[mon.container] : undefined;
    if (!mon || !lxc) return;
    const at = `containers.${mon.container}`;
    if (lxc.role !== "monitoring")
        add(`${at}.role`, `monitoring.container names it, so its role must be "monitoring", not "${lxc.role}"`);
    const ip = lxc.network.address === "dhcp" ? "dhcp" : lxc.network.address.split("/")[0];
    if (ip !== mon.address) {
        add(
            "monitoring.address",
            `must be the address of ${at} (${ip}): every stack admits this address to its exporters`,
        );
    }
    const disk = lxcSizing(lxc).diskGiB;
    if (mon.retentionSizeGiB + MONITORING_DISK_HEADROOM_GIB > disk) {
        add(
            "monitoring.retentionSizeGiB",
            `${mon.retentionSizeGiB} GiB of samples does not fit the ${disk} GiB disk of ${at} with ${MONITORING_DISK_HEADROOM_GIB} GiB to spare; lower it to ${Math.max(disk - MONITORING_DISK_HEADROOM_GIB, 1)} or raise ${at}.disk.sizeGiB`,
        );
    }
}
