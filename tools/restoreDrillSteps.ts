// The restore drill's steps for one guest, as plain data: every command it runs on the guest's node
// over root SSH (`pvesh` for the API calls), the scratch guest's isolated bridge, the guest's own
// check, and the clean-up that runs whatever happened. tools/restoreDrill.ts runs or prints them.

import { BackupModel } from "../config/resolve/backup";
import { StackModel } from "../config/resolve";

export interface DrillTarget {
    readonly stack: string;
    readonly guest: string;
    readonly kind: "vm" | "ct";
    readonly vmid: number;
    readonly node: string;
    /** Where root SSH reaches the node (nodes.<node>.address, sshUser, sshPort). */
    readonly nodeAddress: string;
    readonly sshUser: string;
    readonly sshPort: number;
    readonly storageId: string;
    /** Where the scratch guest's disks go: the guest's own mirror. */
    readonly diskStorage: string;
    readonly scratchVmid: number;
    /** A bridge with no port: nothing the scratch guest says leaves the host. */
    readonly bridge: string;
    /** The guest's own check and what it proves. */
    readonly check: { readonly command: string; readonly what: string };
}

/** A reason the drill cannot run for this guest, or its target; `scratchVmid` is where it restores to. */
export function drillTarget(model: StackModel, guest: string, scratchVmid: number): DrillTarget | string {
    const backup: BackupModel | undefined = model.backup;
    if (!backup) return `stack ${model.stack} declares no backups (backup in Pulumi.${model.stack}.yaml)`;
    const covered = backup.guests.find((g) => g.name === guest);
    if (!covered) {
        const names = backup.guests.map((g) => g.name).join(", ") || "none";
        return `${guest} is not covered by the ${model.environment} backup job (covered: ${names})`;
    }
    const vm = model.vms.find((v) => v.name === guest);
    const lxc = model.containers.find((c) => c.name === guest);
    const nodeName = vm?.node ?? lxc?.node ?? "";
    const node = model.nodes.find((n) => n.name === nodeName);
    if (!node) return `${guest}: node ${nodeName} is not in the config`;
    return {
        stack: model.stack,
        guest,
        kind: covered.kind,
        vmid: covered.vmid,
        node: node.name,
        nodeAddress: node.ssh.address,
        sshUser: node.ssh.user,
        sshPort: node.ssh.port,
        storageId: backup.pbs.storageId,
        diskStorage: vm?.disk.storage ?? lxc?.storage ?? "",
        scratchVmid,
        bridge: `aidsdrill${model.environment === "private" ? 1 : 2}`,
        check: guestCheck(model, guest),
    };
}

/** The guest's own check, run inside the scratch guest. */
export function guestCheck(model: StackModel, guest: string): DrillTarget["check"] {
    const lxc = model.containers.find((c) => c.name === guest);
    if (lxc?.role === "postgresql") {
        return {
            command: `runuser -u postgres -- psql -XAtd aidualstack -c "SELECT count(*) || ' runs, newest ' || max(started_at) FROM backup_runs"`,
            what: "PostgreSQL answers a query on its known table aidualstack.backup_runs (written by each pg_dump run)",
        };
    }
    if (lxc?.role === "redis") {
        return { command: "systemctl is-active redis-server", what: "Redis runs" };
    }
    if (lxc)
        return { command: "systemctl is-system-running --wait || true; test -d /etc", what: "the container boots" };
    return {
        command: "systemctl is-active docker && ls -1 /var/backups/ai-dualstack",
        what: "Docker runs, and the vector-store snapshots are on the restored disk",
    };
}

/** One thing the drill does on the node; `poll` repeats it until it succeeds or time runs out. */
export interface DrillStep {
    readonly name: string;
    readonly command: string;
    /** An API call (through pvesh) rather than a tool. */
    readonly api?: boolean;
    readonly poll?: { readonly timeoutS: number; readonly intervalS: number };
    /** `qm guest exec`: it passes when the guest's command exited 0 (its JSON says), not just qm. */
    readonly guestExec?: boolean;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The latest backup's volume id from `pvesh get .../content --output-format json`, or undefined. */
export function latestBackup(json: string): string | undefined {
    const items = JSON.parse(json) as { volid?: string; ctime?: number }[];
    const sorted = items.filter((i) => i.volid).sort((a, b) => (b.ctime ?? 0) - (a.ctime ?? 0));
    return sorted[0]?.volid;
}

export function listStep(t: DrillTarget): DrillStep {
    return {
        name: "find the latest backup",
        api: true,
        command: `pvesh get /nodes/${t.node}/storage/${t.storageId}/content --content backup --vmid ${t.vmid} --output-format json`,
    };
}

/** Before the restore: the scratch id must be free, and the isolated bridge up. */
export function prepareSteps(t: DrillTarget): DrillStep[] {
    return [
        {
            name: `scratch id ${t.scratchVmid} is free`,
            api: true,
            command: `pvesh get /cluster/nextid --vmid ${t.scratchVmid}`,
        },
        {
            name: `isolated bridge ${t.bridge} (no uplink, no address)`,
            command: `ip link show ${t.bridge} >/dev/null 2>&1 || ip link add ${t.bridge} type bridge; ip link set ${t.bridge} up`,
        },
    ];
}

/** Restores `volid` into the scratch id, cuts it off the network, starts it and waits for it. */
export function restoreSteps(t: DrillTarget, volid: string): DrillStep[] {
    const s = t.scratchVmid;
    if (t.kind === "ct") {
        return [
            { name: "restore", command: `pct restore ${s} ${volid} --storage ${t.diskStorage} --unique 1` },
            { name: "isolate", command: `pct set ${s} --net0 name=eth0,bridge=${t.bridge} --onboot 0` },
            { name: "start", command: `pct start ${s}` },
            { name: "wait for the container", command: `pct exec ${s} -- true`, poll: { timeoutS: 120, intervalS: 2 } },
        ];
    }
    return [
        { name: "restore", command: `qmrestore ${volid} ${s} --storage ${t.diskStorage} --unique 1` },
        {
            // The GPU stays with the running VM, and the drill gets plain memory, not its hugepages.
            name: "isolate, without GPU or hugepages",
            command: `for k in $(qm config ${s} | sed -n 's/^\\(hostpci[0-9]*\\):.*/\\1/p'); do qm set ${s} --delete "$k"; done; qm set ${s} --net0 virtio,bridge=${t.bridge} --onboot 0 --memory 8192 --delete hugepages`,
        },
        { name: "start", command: `qm start ${s}` },
        { name: "wait for the guest agent", command: `qm agent ${s} ping`, poll: { timeoutS: 300, intervalS: 5 } },
    ];
}

export function checkStep(t: DrillTarget): DrillStep {
    const s = t.scratchVmid;
    const inner = `bash -c ${q(t.check.command)}`;
    return {
        name: `check: ${t.check.what}`,
        command: t.kind === "ct" ? `pct exec ${s} -- ${inner}` : `qm guest exec ${s} --timeout 120 -- ${inner}`,
        poll: { timeoutS: 180, intervalS: 5 },
        ...(t.kind === "vm" ? { guestExec: true } : {}),
    };
}

/** Removes the scratch guest and the bridge; runs whatever happened before. */
export function cleanupSteps(t: DrillTarget): DrillStep[] {
    const s = t.scratchVmid;
    const guest =
        t.kind === "ct"
            ? `pct status ${s} >/dev/null 2>&1 && { pct stop ${s} --skiplock 1 || true; pct destroy ${s} --purge 1; } || true`
            : `qm status ${s} >/dev/null 2>&1 && { qm stop ${s} --skiplock 1 || true; qm destroy ${s} --purge 1 --skiplock 1; } || true`;
    return [
        { name: `remove scratch ${t.kind} ${s}`, command: guest },
        { name: `remove bridge ${t.bridge}`, command: `ip link del ${t.bridge} 2>/dev/null || true` },
    ];
}

/** `qm guest exec` prints JSON: the check passed when the guest's command exited 0. */
export function guestExecOk(stdout: string): boolean {
    try {
        return (JSON.parse(stdout) as { exitcode?: number }).exitcode === 0;
    } catch {
        return false;
    }
}
