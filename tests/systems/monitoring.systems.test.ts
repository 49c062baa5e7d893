// The monitoring container, booted: the set-ups `up` sends to 10.10.10.24 run twice on Debian 13 and 12,
// beside a booted PostgreSQL container (10.10.10.20: its node exporter and pg_dump timer only) and a
// Debian stand-in for the AI VM (10.10.10.10: the plan's throughput-probe install, and Debian's node
// exporter reading the probe's folder as the VM's node-exporter service does) for it to scrape. Grafana's
// apt repository cannot be reached here, so the monitoring set-up must fail with one line naming it, on
// both runs, after everything else is in place; the second run changes nothing. Then what the role is
// for: Prometheus runs the generated config and the project's rules, scrapes the other systems' node
// exporters, ingests the backup job's and the probe's textfile metrics and sends their alerts to
// Alertmanager, which runs its generated config; Grafana's provisioning files are written and parse.
// Neither PostgreSQL nor Ollama runs: the backup job and the probe report failure, for real.

import { parse } from "yaml";
import { ALERT_RULES } from "../../components/monitoring/alerts";
import { DATASOURCE_UID, PATHS } from "../../components/monitoring/configFiles";
import { GRAFANA_REPO_URL } from "../../components/monitoring/scripts";
import { Lab } from "../../testing/booted/lab";
import { PlannedSetup, runSetup, setupNamed } from "../../testing/booted/setups";
import { BootedSystem, bootSystem, SUITE_LABEL, SUITES } from "../../testing/booted/system";
import type { PlannedStack } from "../../testing/planStack";
import { shellQuote } from "../../lib/scripts";
import { parsedConfig } from "../helpers/config";
import {
    addressOf,
    bootContainer,
    containerSetups,
    describeBooted,
    expectNestingFor,
    GUEST_NET,
    lab,
    privatePlan,
    runTwice,
} from "./helpers";

const MON = "private-monitoring";
const PG = "private-postgres";
const AI = "private-ai";
const SETUP = `${MON}-monitoring-setup`;
const TEXTFILE = "/var/lib/prometheus/node-exporter";
const aiVm = parsedConfig("private").vms[AI];
const AI_ADDRESS = aiVm?.network.address.split("/")[0] ?? "";
/** Where the probe writes in the VM, and the VM's node-exporter reads (config/rules/probe.ts checks both agree). */
const PROBE_DIR = aiVm?.throughputGate.probe.textfileDirectory ?? "";

/** A rendered set-up's variable (NAME='value' in its header), as the plan carries it. */
function scriptVar(setup: PlannedSetup, name: string): string {
    const m = new RegExp(`^${name}='([^']*)'$`, "m").exec(setup.stdin);
    if (!m) throw new Error(`${setup.name} has no ${name}`);
    return m[1] as string;
}

/** The managed files in the planned monitoring set-up (AIDS_FILES: "path mode owner base64"), by path. */
function plannedFiles(setup: PlannedSetup): Map<string, { mode: string; owner: string; content: string }> {
    const line = /^AIDS_FILES=\((.*)\)$/m.exec(setup.stdin)?.[1];
    if (!line) throw new Error(`${setup.name} has no AIDS_FILES`);
    const files = new Map<string, { mode: string; owner: string; content: string }>();
    for (const m of line.matchAll(/'([^']*)'/g)) {
        const [path, mode, owner, b64] = (m[1] as string).split(" ") as [string, string, string, string];
        files.set(path, { mode, owner, content: Buffer.from(b64, "base64").toString("utf8") });
    }
    return files;
}

function escapeRe(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Polls `probe` until it returns a value, or fails with the last thing it saw after `ms`. */
async function eventually<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + ms;
    let last: unknown;
    for (;;) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s (last: ${String(last)})`);
        await new Promise((r) => setTimeout(r, 2_000));
    }
}

interface Sample {
    metric: Record<string, string>;
    value: [number, string];
}

describeBooted.each(SUITES)("The monitoring container, booted on %s beside PostgreSQL's", (suite) => {
    let l: Lab;
    let mon: BootedSystem;
    let pg: BootedSystem;
    let ai: BootedSystem;
    let plan: PlannedStack;
    let setup: PlannedSetup;
    let files: ReturnType<typeof plannedFiles>;
    /** The backup job's textfile as it wrote it on the PostgreSQL system. */
    let backupMetrics: Map<string, string>;

    /** GET on one of the monitoring system's own APIs, from inside it, as JSON. */
    const api = async <T>(url: string, query?: string): Promise<T> => {
        const q = query ? ` --get --data-urlencode ${shellQuote(`query=${query}`)}` : "";
        return JSON.parse(await mon.sh(`curl -fsS${q} ${shellQuote(url)}`)) as T;
    };
    const promQuery = async (query: string) =>
        (await api<{ data: { result: Sample[] } }>("http://127.0.0.1:9090/api/v1/query", query)).data.result;

    beforeAll(async () => {
        plan = await privatePlan();
        l = lab();
        const booted = await Promise.allSettled([
            bootContainer(l, suite, MON),
            bootContainer(l, suite, PG),
            bootSystem(l, {
                suite,
                address: AI_ADDRESS,
                prefix: GUEST_NET.prefix,
                gateway: GUEST_NET.gateway,
                hostname: AI,
            }),
        ]);
        if (booted[0].status === "fulfilled") mon = booted[0].value;
        if (booted[1].status === "fulfilled") pg = booted[1].value;
        if (booted[2].status === "fulfilled") ai = booted[2].value;
        for (const b of booted) if (b.status === "rejected") throw b.reason;
        setup = containerSetups(plan, MON, ["monitoring-setup"])[0] as PlannedSetup;
        files = plannedFiles(setup);
    }, 240_000);
    afterAll(async () => {
        await Promise.all([mon?.stop(), pg?.stop(), ai?.stop()]);
        l?.stop();
    }, 60_000);

    /** The AI VM's stand-in: the plan's probe install run as root, its first run started; node exporter on the probe's folder. */
    const aiStandIn = async () => {
        const install = setupNamed(plan, AI_ADDRESS, `${AI}-probe-install`);
        // The plan logs in as the VM's user and runs the script as root through sudo; booted systems take root.
        expect(install.create).toBe("sudo -n bash -s");
        // Stand-ins for what the VM has from its image and its compose file: python3, and node-exporter
        // (Debian's package for the prom/node-exporter image) reading the probe's folder.
        await ai.sh("apt-get install -y -qq --no-install-recommends python3 prometheus-node-exporter >/dev/null");
        await ai.sh(
            `echo ${shellQuote(`ARGS='--collector.textfile.directory=${PROBE_DIR}'`)} >/etc/default/prometheus-node-exporter && systemctl restart prometheus-node-exporter`,
        );
        const r = await ai.ssh("bash -s", install.stdin);
        if (r.code !== 0) throw new Error(`${install.name} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
        expect(r.stdout).toContain("ai-dualstack: throughput probe installed; first run started");
        expect((await ai.sh("systemctl is-enabled aidualstack-throughput-probe.timer")).trim()).toBe("enabled");
    };

    /** PostgreSQL's container: its node exporter and pg_dump timer set up, and the backup job run once. */
    const pgScraped = async () => {
        const setups = containerSetups(plan, PG, ["node-exporter-setup", "backup-timer"]);
        expect(setups.map((s) => s.name)).toEqual([`${PG}-node-exporter-setup`, `${PG}-backup-timer`]);
        for (const s of setups) {
            const r = await runSetup(pg, s);
            if (r.code !== 0) throw new Error(`${s.name} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
        }
        // PostgreSQL itself is left out (its data set-up): the job runs for real and reports its failure.
        const run = await pg.ssh("systemctl start aids-pg-dump.service");
        expect(run.code).not.toBe(0);
        const text = await pg.sh(`cat ${TEXTFILE}/aidualstack_backup_pg_dump_${PG}.prom`);
        backupMetrics = new Map(
            text
                .split("\n")
                .filter((line) => line.startsWith("aidualstack_"))
                .map((line) => [line.split("{")[0] as string, line.split(" ").at(-1) as string]),
        );
        expect(backupMetrics.get("aidualstack_backup_last_run_success")).toBe("0");
    };

    test("the systems it scrapes: the AI VM's stand-in with the plan's probe install; PostgreSQL's node exporter and pg_dump timer, the job run once", async () => {
        await Promise.all([aiStandIn(), pgScraped()]);
    }, 300_000);

    test(`${SUITE_LABEL[suite]}: every set-up up sends runs twice; Grafana's unreachable repository fails it with one line naming it, and the second run changes nothing`, async () => {
        const setups = containerSetups(plan, MON);
        expect(setups.map((s) => s.name)).toEqual([`${MON}-node-exporter-setup`, SETUP]);
        const version = scriptVar(setup, "AIDS_GRAFANA_VERSION");
        expect(scriptVar(setup, "AIDS_GRAFANA_REPO_URL")).toBe(GRAFANA_REPO_URL);
        const line = new RegExp(
            `^ai-dualstack monitoring: Grafana ${escapeRe(version)} not installed from its apt repository ${escapeRe(GRAFANA_REPO_URL)}: .*could not fetch the apt key at ${escapeRe(GRAFANA_REPO_URL)}/gpg\\.key$`,
            "m",
        );
        const { first, second, changes } = await runTwice(mon, setups, { expect: { [SETUP]: line } });
        expect(changes).toEqual([]);
        for (const r of [first.get(SETUP), second.get(SETUP)]) {
            // The one line is the run's last, and nothing else says Grafana was not installed.
            expect(r?.stderr.trim().split("\n").at(-1)).toMatch(line);
            const said = `${r?.stdout}\n${r?.stderr}`.split("\n");
            expect(said.filter((l) => /Grafana.* not installed/.test(l))).toEqual([
                r?.stderr.trim().split("\n").at(-1),
            ]);
        }
        expect(first.get(SETUP)?.stdout).toContain(
            "ai-dualstack monitoring: Prometheus, Alertmanager and the node exporter ready; Grafana's files in place",
        );
        // Nothing of Grafana's repository was added, and no Grafana installed.
        expect((await mon.ssh("dpkg-query -W grafana")).code).not.toBe(0);
        expect(await mon.sh("ls /etc/apt/sources.list.d /etc/apt/keyrings")).not.toMatch(/grafana/);
    }, 600_000);

    // Next while Prometheus makes its first scrapes.
    test("a repository an earlier run added, unreachable now: apt's error in the one line, and nothing else restarts", async () => {
        const list = `deb [signed-by=/etc/apt/keyrings/grafana.gpg] ${GRAFANA_REPO_URL} stable main`;
        await mon.sh(`echo ${shellQuote(list)} >/etc/apt/sources.list.d/grafana.list`);
        try {
            const before = await mon.sh("systemctl show -p InvocationID --value prometheus prometheus-alertmanager");
            const r = await runSetup(mon, setup);
            expect(r.code).not.toBe(0);
            const version = scriptVar(setup, "AIDS_GRAFANA_VERSION");
            expect(r.stderr.trim().split("\n").at(-1)).toMatch(
                new RegExp(
                    `^ai-dualstack monitoring: Grafana ${escapeRe(version)} not installed from its apt repository ${escapeRe(GRAFANA_REPO_URL)}: E: .*grafana.*; W: .*apt\\.grafana\\.com`,
                ),
            );
            expect(await mon.sh("systemctl show -p InvocationID --value prometheus prometheus-alertmanager")).toBe(
                before,
            );
        } finally {
            await mon.sh("rm -f /etc/apt/sources.list.d/grafana.list");
        }
    }, 180_000);

    test("Prometheus runs the generated config, with the arguments of /etc/default/prometheus", async () => {
        const planned = parse(files.get(PATHS.prometheusConfig)?.content ?? "") as {
            global: Record<string, unknown>;
            rule_files: string[];
            scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
        };
        const loaded = parse(
            (await api<{ data: { yaml: string } }>("http://127.0.0.1:9090/api/v1/status/config")).data.yaml,
        ) as typeof planned;
        const jobs = (c: typeof planned) =>
            c.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((s) => s.targets)]);
        expect(jobs(loaded)).toEqual(jobs(planned));
        expect(loaded.rule_files).toEqual(planned.rule_files);
        expect(loaded.global).toMatchObject(planned.global);
        const flags = (await api<{ data: Record<string, string> }>("http://127.0.0.1:9090/api/v1/status/flags")).data;
        const args = /^ARGS='(.*)'$/m.exec(files.get("/etc/default/prometheus")?.content ?? "")?.[1] ?? "";
        expect(args).not.toBe("");
        for (const arg of args.split(" ")) {
            const [flag, value] = arg.replace(/^--/, "").split("=") as [string, string];
            // Prometheus reads a size's "GB" as 2^30 bytes and shows it as "GiB" (its ByteSize flag is
            // alecthomas/units' Base2Bytes): the retention size in GiB the config asks for.
            expect([flag, flags[flag]]).toEqual([flag, value.replace(/^(\d+)GB$/, "$1GiB")]);
        }
    });

    test("it scrapes the other booted system's node exporter, with the labels the config gives it", async () => {
        const instance = `${addressOf(PG)}:9100`;
        const planned = parse(files.get(PATHS.prometheusConfig)?.content ?? "") as {
            scrape_configs: {
                job_name: string;
                static_configs: { targets: string[]; labels: Record<string, string> }[];
            }[];
        };
        const job = planned.scrape_configs.find((j) => j.static_configs.some((s) => s.targets.includes(instance)));
        const labels = job?.static_configs.find((s) => s.targets.includes(instance))?.labels;
        expect([job?.job_name, labels?.["guest"]]).toEqual(["node", PG]);
        const up = await eventually(`up{instance="${instance}"} == 1`, 90_000, async () => {
            const r = await promQuery(`up{instance="${instance}"}`);
            return r[0]?.value[1] === "1" ? r : undefined;
        });
        expect(up).toEqual([
            { metric: { __name__: "up", instance, job: "node", ...labels }, value: [expect.any(Number), "1"] },
        ]);
    }, 120_000);

    test("the backup job's textfile metrics show up in a query, as the job wrote them", async () => {
        const instance = `${addressOf(PG)}:9100`;
        for (const name of [
            "aidualstack_backup_last_run_success",
            "aidualstack_backup_last_run_timestamp_seconds",
            "aidualstack_backup_last_success_timestamp_seconds",
        ]) {
            const r = await eventually(name, 90_000, async () => {
                const s = await promQuery(`${name}{instance="${instance}"}`);
                return s.length > 0 ? s : undefined;
            });
            expect(r.map((s) => [s.metric["backup"], s.metric["kind"], s.metric["guest"], s.value[1]])).toEqual([
                [PG, "pg_dump", PG, backupMetrics.get(name)],
            ]);
        }
    }, 300_000);

    test("the probe's textfile metrics show up in a query with the VM's labels, as the probe wrote them (Ollama absent: success 0)", async () => {
        const instance = `${AI_ADDRESS}:9100`;
        // The probe retries an Ollama that refuses connections with the gate's backoff before it writes.
        const text = await eventually("the probe's textfile", 120_000, async () => {
            const r = await ai.ssh(`cat ${PROBE_DIR}/aidualstack_throughput.prom`);
            return r.code === 0 ? r.stdout : undefined;
        });
        expect((await ai.sh("systemctl show -p Result --value aidualstack-throughput-probe.service")).trim()).toBe(
            "exit-code",
        );
        const written = new Map(
            text
                .split("\n")
                .filter((line) => line.startsWith("aidualstack_"))
                .map((line) => [line.split("{")[0] as string, line.split(" ").at(-1) as string]),
        );
        expect(written.get("aidualstack_model_probe_success")).toBe("0.0");
        const model = aiVm?.models[0]?.name;
        for (const [name, value] of written) {
            const r = await eventually(name, 90_000, async () => {
                const s = await promQuery(`${name}{instance="${instance}"}`);
                return s.length > 0 ? s : undefined;
            });
            expect(r.map((s) => [s.metric["model"], s.metric["vm"], s.metric["guest"], Number(s.value[1])])).toEqual([
                [model, AI, AI, Number(value)],
            ]);
        }
        // The GPU's Xid counter runs before each probe (ExecStartPre) into the same folder.
        const xid = await promQuery(`aidualstack_gpu_xid_errors_total{instance="${instance}"}`);
        expect(xid.map((s) => [s.metric["xid"], s.value[1]])).toEqual([["0", "0"]]);
    }, 240_000);

    test("Alertmanager runs its generated config, and receives BackupFailed and ThroughputProbeFailed", async () => {
        type Status = { config: { original: string }; cluster: { status: string } };
        const status = await api<Status>("http://127.0.0.1:9093/api/v2/status");
        const planned = parse(files.get(PATHS.alertmanagerConfig)?.content ?? "") as {
            route: Record<string, unknown>;
            receivers: { name: string }[];
            inhibit_rules: unknown[];
        };
        const loaded = parse(status.config.original) as typeof planned;
        expect(loaded.route).toMatchObject(planned.route);
        expect(loaded.receivers.map((r) => r.name)).toEqual(planned.receivers.map((r) => r.name));
        expect(loaded.inhibit_rules).toHaveLength(planned.inhibit_rules.length);
        // No gossip port (/etc/default/prometheus-alertmanager: --cluster.listen-address=).
        expect(status.cluster.status).toBe("disabled");
        type Alert = { labels: Record<string, string>; status: { state: string } };
        const find = (alerts: Alert[], name: string, guest: string) =>
            alerts.find((a) => a.labels["alertname"] === name && a.labels["guest"] === guest);
        const [backup, probe] = await eventually(
            "BackupFailed and ThroughputProbeFailed in Alertmanager",
            150_000,
            async () => {
                const alerts = await api<Alert[]>("http://127.0.0.1:9093/api/v2/alerts");
                const both = [find(alerts, "BackupFailed", PG), find(alerts, "ThroughputProbeFailed", AI)];
                return both.every(Boolean) ? (both as Alert[]) : undefined;
            },
        );
        expect(backup?.labels).toMatchObject({ backup: PG, kind: "pg_dump", instance: `${addressOf(PG)}:9100` });
        expect(probe?.labels).toMatchObject({ model: aiVm?.models[0]?.name, vm: AI, instance: `${AI_ADDRESS}:9100` });
        expect([backup?.status.state, probe?.status.state]).toEqual(["active", "active"]);
    }, 180_000);

    test("Prometheus loaded the project's rule groups, each rule evaluating without error", async () => {
        type Groups = {
            data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
        };
        const planned = parse(files.get(PATHS.rules)?.content ?? "") as {
            groups: { name: string; rules: { alert: string }[] }[];
        };
        // By group name: the API lists the groups sorted, the file in the order of ALERT_RULES.
        const byGroup = (gs: { name: string; names: string[] }[]) =>
            gs.map((g) => [g.name, g.names]).sort(([a], [b]) => String(a).localeCompare(String(b)));
        const expected = [...new Set(ALERT_RULES.map((r) => r.group))].map((g) => ({
            name: `aidualstack-${g}`,
            names: ALERT_RULES.filter((r) => r.group === g).map((r) => r.alert),
        }));
        expect(byGroup(planned.groups.map((g) => ({ name: g.name, names: g.rules.map((r) => r.alert) })))).toEqual(
            byGroup(expected),
        );
        // Every rule evaluated at least once (health "ok"): one evaluation interval after the start at most.
        const groups = await eventually("every rule evaluated", 90_000, async () => {
            const g = (await api<Groups>("http://127.0.0.1:9090/api/v1/rules")).data.groups;
            return g.every((x) => x.rules.every((r) => r.health !== "unknown")) ? g : undefined;
        });
        expect(byGroup(groups.map((g) => ({ name: g.name, names: g.rules.map((r) => r.name) })))).toEqual(
            byGroup(expected),
        );
        expect(
            groups.flatMap((g) => g.rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.lastError}`)),
        ).toEqual([]);
    }, 120_000);

    test("Grafana's provisioning files and dashboards are written as planned, and parse", async () => {
        // Every file under Grafana's folders, each as "path base64" on a line: one login for all.
        const listing = await mon.sh(
            `find /etc/grafana ${PATHS.dashboardDir} -type f | sort | while read -r f; do echo "$f $(base64 -w0 "$f")"; done`,
        );
        const onSystem = new Map(
            listing
                .trim()
                .split("\n")
                .map((line) => line.split(" ") as [string, string])
                .map(([p, b64]) => [p, Buffer.from(b64, "base64").toString("utf8")]),
        );
        const planned = [...files.entries()].filter(
            ([p]) => p.startsWith("/etc/grafana/") || p.startsWith(`${PATHS.dashboardDir}/`),
        );
        expect(planned.map(([p]) => p)).toEqual(
            expect.arrayContaining([PATHS.grafanaIni, PATHS.grafanaDatasources, PATHS.grafanaDashboards]),
        );
        // Exactly the planned files, with the planned content (put_file ends each with one newline).
        expect([...onSystem.keys()]).toEqual(planned.map(([p]) => p).sort());
        for (const [p, f] of planned) expect([p, onSystem.get(p)]).toEqual([p, `${f.content.replace(/\n+$/, "")}\n`]);
        const datasources = parse(onSystem.get(PATHS.grafanaDatasources) ?? "") as {
            datasources: Record<string, unknown>[];
        };
        expect(datasources.datasources).toEqual([
            expect.objectContaining({ uid: DATASOURCE_UID, type: "prometheus", url: "http://localhost:9090" }),
        ]);
        const provider = parse(onSystem.get(PATHS.grafanaDashboards) ?? "") as {
            providers: { options: { path: string } }[];
        };
        expect(provider.providers.map((p) => p.options.path)).toEqual([PATHS.dashboardDir]);
        const dashboards = [...onSystem.keys()].filter((p) => p.startsWith(`${PATHS.dashboardDir}/`));
        expect(dashboards.length).toBeGreaterThan(0);
        for (const file of dashboards) {
            const d = JSON.parse(onSystem.get(file) ?? "") as {
                uid: string;
                panels: { datasource: { uid: string } }[];
            };
            expect(`${PATHS.dashboardDir}/${d.uid}.json`).toBe(file);
            expect(new Set(d.panels.map((p) => p.datasource.uid))).toEqual(new Set([DATASOURCE_UID]));
        }
        expect(onSystem.get(PATHS.grafanaIni)).toContain("admin_password = ");
    });

    test("nesting: prometheus asks for a mount namespace, so the monitoring role has nesting on", () =>
        expectNestingFor(mon, "monitoring", ["prometheus.service"]));
});
