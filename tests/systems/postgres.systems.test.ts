// PostgreSQL's service container, booted: the set-ups `up` sends to 10.10.10.20 (the data set-up, the
// node exporter, the pg_dump timer) run twice on Debian 13 and 12; then the configured role logs in over
// TCP from the one allowed address with its password, and a wrong password and another address are refused.
// The nightly backup: the timer's own unit runs, its dump restores (with the pg-restore.sh installed beside
// it) into a fresh cluster, and its metrics file is written where the node exporter reads it.

import { SUITE_LABEL, SUITES } from "../../testing/booted/system";
import { pgDumpJob } from "../../components/backup/render";
import { parsedConfig } from "../helpers/config";
import {
    addressOf,
    bootedContainerFor,
    containerSetups,
    describeBooted,
    GUEST_NET,
    runTwice,
    expectNestingFor,
} from "./helpers";

const pg = parsedConfig("private").containers["private-postgres"]?.postgres;
const PLACEHOLDER = "offline-placeholder-postgresPassword"; // the plan's stand-in for serviceSecrets.postgresPassword

describeBooted.each(SUITES)("PostgreSQL's container, booted on %s", (suite) => {
    const ct = bootedContainerFor(suite, "private-postgres");

    test(`${SUITE_LABEL[suite]}: every set-up up sends runs, and a second run changes nothing`, async () => {
        const setups = containerSetups(ct.plan, "private-postgres");
        expect(setups.map((s) => s.name)).toEqual([
            "private-postgres-data-setup",
            "private-postgres-node-exporter-setup",
            "private-postgres-backup-timer",
        ]);
        const { changes } = await runTwice(ct.system, setups);
        expect(changes).toEqual([]);
    }, 600_000);

    test("the configured role logs in over TCP from its allowed address with the secret", () => {
        expect(pg?.allowFrom).toEqual(["10.10.10.10/32"]);
        const client = ct.lab.addHost("10.10.10.10", GUEST_NET.prefix, GUEST_NET.gateway);
        const psql = (password: string) =>
            client.exec("env", [
                `PGPASSWORD=${password}`,
                "psql",
                "-X",
                "-qAt",
                `-h${addressOf("private-postgres")}`,
                "-Uopenwebui",
                "-dopenwebui",
                "-c",
                "SELECT current_user || '@' || host(inet_server_addr())",
            ]);
        expect(psql(PLACEHOLDER).trim()).toBe("openwebui@10.10.10.20");
        expect(() => psql("wrong")).toThrow(/password authentication failed for user "openwebui"/);
    }, 60_000);

    test("another address on the same network is refused by pg_hba", () => {
        const other = ct.lab.addHost("10.10.10.99", GUEST_NET.prefix, GUEST_NET.gateway);
        expect(() =>
            other.exec("env", [
                `PGPASSWORD=${PLACEHOLDER}`,
                "psql",
                "-X",
                "-h10.10.10.20",
                "-Uopenwebui",
                "-dopenwebui",
                "-c",
                "SELECT 1",
            ]),
        ).toThrow(/no pg_hba.conf entry for host "10.10.10.99"/);
    });

    test("the pg_dump timer's unit runs, writes its metrics, and its dump restores into a fresh cluster", async () => {
        const job = pgDumpJob("private-postgres", { schedule: "daily", keepDays: 7 });
        expect(await ct.system.sh(`systemctl list-timers --all --no-legend ${job.job}.timer`)).toContain(
            `${job.job}.service`,
        );
        await ct.system.sh(`systemctl start ${job.job}.service`); // Type=oneshot: returns when the dump is done
        expect((await ct.system.sh(`systemctl show -p Result --value ${job.job}.service`)).trim()).toBe("success");
        const textfiles = job.env["AIDS_TEXTFILE_DIR"] as string;
        const metrics = await ct.system.sh(`cat ${textfiles}/aidualstack_backup_pg_dump_private-postgres.prom`);
        expect(metrics).toMatch(
            /^aidualstack_backup_last_success_timestamp_seconds\{backup="private-postgres",kind="pg_dump"\} [1-9]\d+$/m,
        );
        // ...and the node exporter serves it (its textfile collector reads that directory).
        expect(ct.lab.exec("curl", ["-fsS", `http://${ct.system.address}:9100/metrics`])).toContain(
            'aidualstack_backup_last_success_timestamp_seconds{backup="private-postgres",kind="pg_dump"}',
        );
        // A fresh cluster on another port, and the restore tool installed beside the job.
        const dumps = `${job.env["AIDS_DUMP_DIR"] as string}/latest`;
        await ct.system.sh(
            `v=$(pg_lsclusters -h | awk '$2 == "main" {print $1}'); pg_createcluster "$v" restored -p 5433 --start >/dev/null`,
        );
        const restore = await ct.system.ssh(`PGPORT=5433 /usr/local/lib/ai-dualstack/pg-restore.sh ${dumps}`);
        expect(restore.code).toBe(0);
        const rows = await ct.system.sh(
            `runuser -u postgres -- psql -p 5433 -XAtc "SELECT count(*) > 0 FROM backup_runs" aidualstack; runuser -u postgres -- psql -p 5433 -XAtc "SELECT rolname FROM pg_roles WHERE rolname = 'openwebui'" openwebui`,
        );
        expect(rows.trim().split("\n")).toEqual(["t", "openwebui"]);
    }, 120_000);

    test("nesting: systemd-logind asks for a mount namespace, so the postgresql role has nesting on", () =>
        expectNestingFor(ct.system, "postgresql", []));
});
