// The backup scripts rendered with their settings, and the one-line descriptions the plan prints.
// Plain functions: tested without Pulumi, and by running the rendered scripts for real.

import { BackupModel, BackupServerModel, VectorStore, pbsNames } from "../../config/resolve/backup";
import { PROXMOX_RELEASE_KEYS, PROXMOX_SUITES, ProxmoxSuite, pinnedKeyCommand } from "../../lib/aptKeys";
import { PKG_FLOOR, loadScript, renderScript, shellQuote } from "../../lib/scripts";

const SCRIPTS = __dirname;
const COMMENT = "Rendered by ai-dualstack (components/backup). Do not edit in the guest.";
/**
 * node-exporter's textfile directory in the containers (Debian's prometheus-node-exporter default, as the
 * monitoring set-up installs it); in a VM, its node-exporter service's (throughputGate.probe.textfileDirectory).
 */
export const TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";
/** Where the application dumps and snapshots stay, on the guest's disk that its guest backup carries. */
export const DUMP_ROOT = "/var/backups/ai-dualstack";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** A job script: the metrics helpers, then the job's body. */
export function jobScript(file: string): string {
    return [
        "#!/usr/bin/env bash",
        `# ${COMMENT}`,
        loadScript(SCRIPTS, "textfile-metrics.sh"),
        loadScript(SCRIPTS, file),
    ].join("\n");
}

/** An EnvironmentFile (systemd): KEY="value" lines. */
export function envFile(vars: Readonly<Record<string, string>>): string {
    return Object.entries(vars)
        .map(([k, v]) => `${k}="${v.replace(/(["\\$`])/g, "\\$1")}"`)
        .join("\n")
        .concat("\n");
}

export interface TimerJob {
    /** systemd unit name. */
    readonly job: string;
    readonly description: string;
    readonly schedule: string;
    readonly script: string;
    readonly env: Readonly<Record<string, string>>;
    readonly packages: readonly string[];
    /** A companion tool installed beside the job's script. */
    readonly extra?: { readonly name: string; readonly script: string };
}

/** The installer of one job: script, settings, service and timer (scripts/timer-setup.sh). */
export function renderTimerSetup(job: TimerJob): string {
    return renderScript(
        COMMENT,
        {
            AIDS_JOB: job.job,
            AIDS_DESCRIPTION: job.description,
            AIDS_SCHEDULE: job.schedule,
            AIDS_SCRIPT_B64: b64(job.script),
            AIDS_ENV_B64: b64(envFile(job.env)),
            AIDS_PACKAGES: job.packages.join(" "),
            AIDS_EXTRA_NAME: job.extra?.name ?? "",
            AIDS_EXTRA_B64: job.extra ? b64(job.extra.script) : "",
        },
        loadScript(SCRIPTS, "timer-setup.sh"),
    );
}

/** The restore of a pg_dump run, installed beside the job (AIDS_PG_RUNAS=postgres is its default there). */
export function pgRestoreScript(): string {
    return [
        "#!/usr/bin/env bash",
        `# ${COMMENT}`,
        ': "${AIDS_PG_RUNAS=postgres}"',
        loadScript(SCRIPTS, "pg-restore.sh"),
    ].join("\n");
}

/** The nightly pg_dump of a PostgreSQL container. */
export function pgDumpJob(name: string, dumps: BackupModel["dumps"]): TimerJob {
    return {
        job: "aids-pg-dump",
        description: `pg_dump of ${name}`,
        schedule: dumps.schedule,
        script: jobScript("pg-dump.sh"),
        env: {
            AIDS_BACKUP_NAME: name,
            AIDS_DUMP_DIR: `${DUMP_ROOT}/postgresql`,
            AIDS_KEEP_DAYS: String(dumps.keepDays),
            AIDS_TEXTFILE_DIR: TEXTFILE_DIR,
            AIDS_PG_RUNAS: "postgres",
        },
        packages: [],
        extra: { name: "pg-restore.sh", script: pgRestoreScript() },
    };
}

/** `qdrant:<container>` and `chroma:<container>:<volume>` for the snapshot job. */
export function storeList(stores: readonly VectorStore[]): string {
    return stores
        .map((s) => (s.kind === "chroma" ? `chroma:${s.service}:${s.volume ?? ""}` : `qdrant:${s.service}`))
        .join(" ");
}

/** The vector stores' snapshot timer of a VM; the Qdrant API key, when there is one, is a secret. */
export function vectorJob(
    vm: string,
    stores: readonly VectorStore[],
    dumps: BackupModel["dumps"],
    qdrantKey = "",
    textfileDirectory = TEXTFILE_DIR,
): TimerJob {
    return {
        job: "aids-vector-snapshot",
        description: `${stores.map((s) => s.kind).join(" and ")} snapshots of ${vm}`,
        schedule: dumps.schedule,
        script: jobScript("vector-snapshot.sh"),
        env: {
            AIDS_STORES: storeList(stores),
            AIDS_SNAPSHOT_DIR: DUMP_ROOT,
            AIDS_KEEP_DAYS: String(dumps.keepDays),
            AIDS_TEXTFILE_DIR: textfileDirectory,
            AIDS_BACKUP_PREFIX: vm,
            ...(stores.some((s) => s.kind === "qdrant") ? { QDRANT_API_KEY: qdrantKey } : {}),
        },
        packages: ["curl", "python3"],
    };
}

/**
 * The Proxmox Backup Server major each Debian suite's repository carries: Proxmox builds PBS 3 for
 * bookworm (proxmox-backup debian/changelog, "rust-proxmox-backup (3.x) bookworm") and PBS 4 for
 * trixie ("rust-proxmox-backup (4.x) trixie"). The backup container installs from its own suite's.
 */
export const PBS_MAJOR_BY_SUITE: Readonly<Record<ProxmoxSuite, number>> = { bookworm: 3, trixie: 4 };

/** The keyring each suite's repository is signed with: trixie's where Proxmox's docs put it (proxmox-archive-keyring then keeps it). */
const PBS_KEYRINGS: Readonly<Record<ProxmoxSuite, string>> = {
    bookworm: "/usr/share/keyrings/proxmox-release-bookworm.gpg",
    trixie: "/usr/share/keyrings/proxmox-archive-keyring.gpg",
};

/**
 * The command that adds PBS's no-subscription repository for `suite` (Proxmox's package-repositories
 * docs: `http://download.proxmox.com/debian/pbs <suite> pbs-no-subscription`; apt checks its signed
 * Release file), only with that suite's release key pinned by fingerprint (lib/aptKeys.ts).
 */
export function pbsRepoCommand(suite: ProxmoxSuite): string {
    const keyring = PBS_KEYRINGS[suite];
    return pinnedKeyCommand(
        PROXMOX_RELEASE_KEYS[suite],
        {
            keyring,
            list: "/etc/apt/sources.list.d/pbs.list",
            line: `deb [signed-by=${keyring}] http://download.proxmox.com/debian/pbs ${suite} pbs-no-subscription`,
        },
        "${AIDS_ROOT:-}",
    );
}

/** The suites the set-up knows, as its refusal of another names them. */
export const PBS_SUITES_TEXT = PROXMOX_SUITES.map((s) => `${s} (PBS ${PBS_MAJOR_BY_SUITE[s]})`).join(" and ");

/** Bash associative-array lines. */
function assoc(name: string, entries: Readonly<Record<string, string>>): string {
    return `declare -A ${name}=(${Object.entries(entries)
        .map(([k, v]) => `[${k}]=${shellQuote(v)}`)
        .join(" ")})`;
}

/** The PBS setup: passwords by environment (and the off-site one) come in as secrets. */
export function renderPbsSetup(
    server: BackupServerModel,
    passwords: Readonly<Record<string, string>>,
    offsitePassword = "",
): string {
    const off = server.offsite;
    return renderScript(
        COMMENT,
        {
            AIDS_PBS_VERSION: server.version,
            AIDS_DATASTORES: server.datastores.map((d) => `${d.environment}:${pbsNames(d.environment).path}`).join(" "),
            AIDS_GC: server.gcSchedule,
            AIDS_PRUNE: server.pruneSchedule,
            AIDS_VERIFY: server.verifySchedule,
            AIDS_MAX_AGE_HOURS: "26",
            AIDS_OFFSITE_HOST: off?.host ?? "",
            AIDS_OFFSITE_AUTH_ID: off?.authId ?? "",
            AIDS_OFFSITE_PASSWORD: off ? offsitePassword : "",
            AIDS_OFFSITE_FINGERPRINT: off?.fingerprint ?? "",
            AIDS_OFFSITE_PREFIX: off?.datastorePrefix ?? "",
            AIDS_OFFSITE_SCHEDULE: off?.schedule ?? "",
            AIDS_PBS_SUITES: PBS_SUITES_TEXT,
            AIDS_TEXTFILE_B64: b64(loadScript(SCRIPTS, "textfile-metrics.sh")),
            AIDS_METRICS_B64: b64(loadScript(SCRIPTS, "pbs-metrics.sh")),
        },
        `${PKG_FLOOR}\n${loadScript(SCRIPTS, "pbs-setup.sh")}`,
        [
            // Base64: a command inside a single-quoted value would read as one to shellcheck.
            assoc("AIDS_PBS_REPO_B64", Object.fromEntries(PROXMOX_SUITES.map((s) => [s, b64(pbsRepoCommand(s))]))),
            assoc(
                "AIDS_PASSWORDS",
                Object.fromEntries(server.datastores.map((d) => [d.environment, passwords[d.environment] ?? ""])),
            ),
            assoc(
                "AIDS_KEEP",
                Object.fromEntries(
                    server.datastores.map((d) => [
                        d.environment,
                        `${d.retention.keepDaily} ${d.retention.keepWeekly} ${d.retention.keepMonthly}`,
                    ]),
                ),
            ),
        ],
    );
}

const keepText = (r: BackupModel["retention"]) =>
    `keep ${r.keepDaily} daily, ${r.keepWeekly} weekly, ${r.keepMonthly} monthly`;

/** What the PBS setup installs, in one plain line. */
export function describePbsSetup(server: BackupServerModel): string {
    const stores = server.datastores
        .map((d) => `${d.environment} (${d.sizeGiB} GiB on ${d.storage}, ${keepText(d.retention)})`)
        .join(", ");
    return [
        `installs Proxmox Backup Server ≥ ${server.version} from the container's own suite (${PBS_SUITES_TEXT}; release key pinned by fingerprint, never held); datastores ${stores}, each on its own mount point with namespace and user <env>-backup@pbs (DatastoreBackup on it only)`,
        `prune ${server.pruneSchedule}, GC ${server.gcSchedule}, verify ${server.verifySchedule}`,
        server.offsite
            ? `push sync to ${server.offsite.host} (${server.offsite.datastorePrefix}-<env>) ${server.offsite.schedule}`
            : "no off-site sync",
        `metrics timer (kind pbs) in ${TEXTFILE_DIR}; https://<ip>:8007 (script held secret: it carries passwords)`,
    ].join("; ");
}

export { keepText };
