// The monitoring settings against the stack that runs them: the container is a monitoring one at the
// configured address, retention fits its disk, the secrets it names exist, and each peer stack's file
// can be read.

import * as fs from "fs";
import * as path from "path";
import { monitoringSecrets, readPeerGuests } from "../monitoring";
import { ParsedConfig } from "../schema";
import { lxcSizing } from "../sizing";
import { Add } from "./issues";
import { PROJECT_ROOT } from "./workload";

/** Disk the container keeps free besides Prometheus's samples: the OS, Grafana, Alertmanager. */
export const MONITORING_DISK_HEADROOM_GIB = 4;

export function checkMonitoring(
    cfg: ParsedConfig,
    secretNames: ReadonlySet<string> | undefined,
    add: Add,
    projectDir: string = PROJECT_ROOT,
): void {
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
    for (const [where, name] of monitoringSecrets(cfg)) {
        if (secretNames && !secretNames.has(name)) {
            add(
                where,
                `serviceSecrets.${name} is not set; set it with \`pulumi config set --secret --path 'ai-dualstack:serviceSecrets.${name}' <value>\``,
            );
        }
    }
    mon.peerStacks.forEach((stack, i) => {
        const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
        if (!fs.existsSync(file))
            return add(
                `monitoring.peerStacks[${i}]`,
                `Pulumi.${stack}.yaml does not exist; name a stack of this project`,
            );
        try {
            readPeerGuests(stack, projectDir);
        } catch (e) {
            add(
                `monitoring.peerStacks[${i}]`,
                `Pulumi.${stack}.yaml has guests its own stack would refuse: ${(e as Error).message.split("\n")[0]}`,
            );
        }
    });
}
