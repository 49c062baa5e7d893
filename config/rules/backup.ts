// Backup rules: every stateful guest (a VM whose services keep volumes, a PostgreSQL or Redis
// container) is covered by the environment's backup job or says `backup: false` with a reason; the
// job names real guests; the PBS server runs in a backup container with a datastore per environment
// on a mirror of its own environment; the secrets it names are set.

import { BackupConfig, EnvironmentName, ParsedConfig } from "../schema";
import { Add, list } from "./issues";

/** Container roles that hold data. */
export const DATA_ROLES: readonly string[] = ["postgresql", "redis"];

export interface StatefulGuest {
    kind: "vms" | "containers";
    name: string;
    /** What makes it stateful, for the message. */
    why: string;
}

/** The guests that hold data: VMs with writable volumes, and the data containers. */
export function statefulGuests(cfg: ParsedConfig): StatefulGuest[] {
    const vms = Object.entries(cfg.vms).flatMap(([name, vm]): StatefulGuest[] => {
        // What the services write: read-only mounts (the exporters' views of the host) hold nothing.
        const volumes = Object.values(vm.services).flatMap((s) =>
            s.volumes.filter((v) => !v.readOnly).map((v) => v.source),
        );
        return volumes.length > 0
            ? [{ kind: "vms", name, why: `its services keep volumes (${[...new Set(volumes)].sort().join(", ")})` }]
            : [];
    });
    const lxcs = Object.entries(cfg.containers)
        .filter(([, lxc]) => DATA_ROLES.includes(lxc.role))
        .map(([name, lxc]): StatefulGuest => ({ kind: "containers", name, why: `it is a ${lxc.role} container` }));
    return [...vms, ...lxcs];
}

/** backup: false and backupReason on each guest, and coverage of the stateful ones. */
function checkCoverage(cfg: ParsedConfig, add: Add): void {
    const covered = new Set(cfg.backup?.guests ?? []);
    const guests = [
        ...Object.entries(cfg.vms).map(([n, g]) => ["vms", n, g] as const),
        ...Object.entries(cfg.containers).map(([n, g]) => ["containers", n, g] as const),
    ];
    for (const [kind, name, g] of guests) {
        const at = `${kind}.${name}`;
        if (g.backup === false && g.backupReason === undefined) {
            add(`${at}.backupReason`, "backup: false needs a reason; say why this guest holds nothing to restore");
        }
        if (g.backup === undefined && g.backupReason !== undefined) {
            add(`${at}.backupReason`, "a reason without backup: false; set backup: false or remove the reason");
        }
        if (g.backup === false && covered.has(name)) {
            add(`${at}.backup`, "is false, but backup.guests lists this guest; remove one of the two");
        }
    }
    for (const s of statefulGuests(cfg)) {
        const g = s.kind === "vms" ? cfg.vms[s.name] : cfg.containers[s.name];
        if (covered.has(s.name) || g?.backup === false) continue;
        add(
            `${s.kind}.${s.name}.backup`,
            `holds data (${s.why}) but no backup job covers it; add "${s.name}" to backup.guests, or set backup: false with a backupReason`,
        );
    }
}

function checkGuestList(cfg: ParsedConfig, b: BackupConfig, add: Add): void {
    const known = new Set([...Object.keys(cfg.vms), ...Object.keys(cfg.containers)]);
    const seen = new Set<string>();
    b.guests.forEach((name, i) => {
        if (!known.has(name)) {
            add(`backup.guests[${i}]`, `"${name}" is not a guest of this stack; use one of ${list([...known].sort())}`);
        } else if (seen.has(name)) {
            add(`backup.guests[${i}]`, `"${name}" is listed twice; remove one`);
        }
        seen.add(name);
    });
    const r = b.retention;
    if (r.keepDaily + r.keepWeekly + r.keepMonthly === 0) {
        add("backup.retention", "keeps no backup at all; set keepDaily, keepWeekly or keepMonthly above 0");
    }
}

/** The PBS server: its container, datastores on this environment's mirrors, and this stack's own entry. */
function checkServer(cfg: ParsedConfig, env: EnvironmentName, b: BackupConfig, add: Add): void {
    const server = b.server;
    if (!server) {
        if (b.pbs.fingerprint === undefined) {
            add(
                "backup.pbs.fingerprint",
                "is required when this stack does not run the PBS itself; copy the other stack's output backup.fingerprint",
            );
        }
        return;
    }
    const lxc = cfg.containers[server.container];
    if (!lxc || lxc.role !== "backup") {
        const backups = Object.entries(cfg.containers).filter(([, c]) => c.role === "backup");
        add(
            "backup.server.container",
            `"${server.container}" is not a container with role backup; use one of ${list(backups.map(([n]) => n))}`,
        );
        return;
    }
    const ip = lxc.network.address === "dhcp" ? undefined : lxc.network.address.split("/")[0];
    if (ip === undefined) {
        add(`containers.${server.container}.network.address`, "the PBS container needs a static address, not dhcp");
    } else if (b.pbs.server !== ip) {
        add("backup.pbs.server", `is "${b.pbs.server}", but this stack's PBS runs at ${ip}; use "${ip}"`);
    }
    const mirrors = cfg.nodes[lxc.node]?.mirrors ?? {};
    for (const [dsEnv, ds] of Object.entries(server.datastores)) {
        const mirror = mirrors[ds.storage];
        if (!mirror || mirror.environment !== env) {
            const own = Object.entries(mirrors).filter(([, m]) => m.environment === env);
            add(
                `backup.server.datastores.${dsEnv}.storage`,
                `"${ds.storage}" is not a mirror of the ${env} environment on ${lxc.node}; use one of ${list(own.map(([n]) => n))}`,
            );
        }
    }
    const own = server.datastores[env];
    if (!own) {
        add(`backup.server.datastores.${env}`, `this stack's own environment has no datastore; declare one`);
    } else if (own.passwordSecret !== b.pbs.passwordSecret) {
        add(
            "backup.pbs.passwordSecret",
            `is "${b.pbs.passwordSecret}", but the ${env} datastore's user has "${own.passwordSecret}"; name the same secret`,
        );
    }
}

export function checkBackups(cfg: ParsedConfig, env: EnvironmentName, add: Add): void {
    checkCoverage(cfg, add);
    const b = cfg.backup;
    if (!b) return;
    checkGuestList(cfg, b, add);
    checkServer(cfg, env, b, add);
}
