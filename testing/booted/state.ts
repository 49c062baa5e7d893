// What a set-up script changed on a booted system, for the "run it twice, the second run changes nothing"
// check: the checksum of every file written since boot (the overlay's upper directory, so nothing a script
// writes anywhere can hide), every service's invocation (a restart gives it a new InvocationID), and the
// jobs systemd ran (start, stop, restart, reload) between two snapshots.

import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BootedSystem } from "./system";

/**
 * Paths that change without any script touching them, each with its reason. Everything else the scripts'
 * second run writes is a finding.
 */
export const VOLATILE: readonly { path: RegExp; why: string }[] = [
    { path: /^var\/log\//, why: "logs and the journal grow on their own" },
    { path: /^var\/cache\//, why: "apt's and man-db's caches" },
    { path: /^var\/lib\/apt\/lists\//, why: "apt-get update refreshes the package index on every run by design" },
    { path: /^(tmp|var\/tmp)\//, why: "temporary files" },
    { path: /^var\/lib\/systemd\//, why: "timer stamps, the random seed, credentials" },
    {
        path: /^var\/lib\/postgresql\/[^/]+\/main\//,
        why: "PostgreSQL's data directory changes as it runs (WAL, stats)",
    },
    { path: /^var\/lib\/redis\//, why: "Redis's own snapshots" },
    { path: /^var\/lib\/prometheus\/metrics2\//, why: "Prometheus's time series database" },
    { path: /^var\/lib\/prometheus\/node-exporter\//, why: "textfile metrics that timers rewrite" },
    { path: /^var\/lib\/alertmanager\//, why: "Alertmanager's silences and notification log" },
    { path: /^var\/lib\/crowdsec\/data\//, why: "CrowdSec's database of decisions and metrics" },
    {
        path: /^var\/lib\/ai-dualstack\/proxy-log-ship\.since$/,
        why: "the node's running log shipper moves its window there every 10 s (proxy-log-ship.sh), no set-up writes it",
    },
    { path: /^etc\/ld\.so\.cache$/, why: "rewritten by ldconfig triggers" },
    { path: /^root\/\.(bash_history|lesshst|cache\/)/, why: "the test's own SSH sessions" },
];

export interface SystemState {
    files: Map<string, string>;
    /** Each hashed file's identity when it was hashed: inode, size, and change and modification times in ns. */
    stats: Map<string, string>;
    units: Map<string, string>;
    cursor: string;
}

/**
 * A file's identity for reusing its checksum: any write to it, or a chmod or chown, sets its change time (ctime) to
 * the kernel's clock, which no system call can set back, and a file replaced by another has another inode.
 */
function identity(st: fs.BigIntStats): string {
    return `${st.ino} ${st.size} ${st.ctimeNs} ${st.mtimeNs}`;
}

/**
 * The checksum, mode and owner of every file under `root` (the overlay's upper directory), outside VOLATILE. A file
 * `earlier` hashed whose identity is unchanged keeps its earlier entry: the second snapshot of a double run reads
 * only what was written since the first: after a role's first run its upper directory holds 250-400 MB (its packages),
 * about a second of hashing, and the second snapshot rehashed none of it in the runs measured here.
 */
export function hashTree(
    root: string,
    earlier?: SystemState,
): { files: Map<string, string>; stats: Map<string, string> } {
    const out = new Map<string, string>();
    const stats = new Map<string, string>();
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            const rel = path.relative(root, full);
            if (VOLATILE.some((v) => v.path.test(entry.isDirectory() ? `${rel}/` : rel))) continue;
            if (entry.isDirectory()) walk(full);
            else if (entry.isSymbolicLink()) out.set(rel, `-> ${fs.readlinkSync(full)}`);
            else if (entry.isFile()) {
                const st = fs.statSync(full, { bigint: true });
                const id = identity(st);
                stats.set(rel, id);
                const kept = earlier?.stats.get(rel) === id ? earlier.files.get(rel) : undefined;
                if (kept !== undefined) {
                    out.set(rel, kept);
                    continue;
                }
                const sum = crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex");
                out.set(rel, `${sum} ${(st.mode & 0o7777n).toString(8)} ${st.uid}:${st.gid}`);
            } else if (entry.isCharacterDevice() && fs.statSync(full).rdev === 0) {
                out.set(rel, "deleted"); // an overlay whiteout: the script removed a file of the base system
            }
        }
    };
    walk(root);
    return { files: out, stats };
}

/** The state to compare a second run against (a snapshot after the first); `earlier`: a snapshot to reuse checksums of. */
export async function snapshot(system: BootedSystem, earlier?: SystemState): Promise<SystemState> {
    const units = new Map<string, string>();
    const shown = await system.sh("systemctl show --type=service --all --property=Id,InvocationID '*'");
    let id = "";
    for (const line of shown.split("\n")) {
        if (line.startsWith("Id=")) id = line.slice(3);
        else if (line.startsWith("InvocationID=") && id) units.set(id, line.slice("InvocationID=".length));
    }
    const cursor = (await system.sh("journalctl -n 0 --show-cursor --quiet")).replace(/^-- cursor: /m, "").trim();
    return { ...hashTree(system.changes, earlier), units, cursor };
}

/** Services the test's own SSH logins start and stop (root's user manager), not the scripts. */
const SESSION_UNITS = /^(user@0|user-runtime-dir@0)\.service$|\.scope$|\.slice$/;

/** What changed between `before` and now: files, restarted services, and systemd's jobs. Empty when nothing did. */
export async function changesSince(system: BootedSystem, before: SystemState): Promise<string[]> {
    const after = await snapshot(system, before);
    const found: string[] = [];
    for (const [file, sum] of after.files) {
        const was = before.files.get(file);
        if (was === undefined) found.push(`new file /${file}`);
        else if (was !== sum) found.push(`changed /${file}`);
    }
    for (const file of before.files.keys()) if (!after.files.has(file)) found.push(`removed /${file}`);
    for (const [unit, invocation] of after.units) {
        if (SESSION_UNITS.test(unit)) continue;
        const was = before.units.get(unit) ?? "";
        if (invocation !== was && invocation !== "") found.push(`${unit} started again (new invocation)`);
    }
    const journal = await system.sh(`journalctl --after-cursor='${before.cursor}' -o json _PID=1`);
    for (const line of journal.split("\n")) {
        if (!line.trim()) continue;
        const entry = JSON.parse(line) as { JOB_TYPE?: string; UNIT?: string; MESSAGE?: string };
        if (entry.JOB_TYPE && entry.UNIT && !SESSION_UNITS.test(entry.UNIT) && entry.MESSAGE) {
            // job_emit_start_message (Starting/Stopping/Reloading...); the done message repeats it
            if (/^(Starting|Stopping|Reloading|Restarting) /.test(entry.MESSAGE)) {
                found.push(`systemd ${entry.JOB_TYPE} ${entry.UNIT}`);
            }
        }
    }
    return [...new Set(found)];
}
