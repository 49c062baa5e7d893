// The application-level backup for real: the project's own pg-dump.sh (as the timer installs it)
// dumps a real PostgreSQL cluster on 127.0.0.1, pg-restore.sh loads it into a fresh one, and every
// table's row count and checksum match; the textfile metrics follow each run, good or failed.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { jobScript, pgRestoreScript } from "../../../components/backup/render";
import { PgCluster, findPgBin, startCluster } from "../../helpers/postgres";

const bin = findPgBin();
const describePg = bin ? describe : describe.skip;

const SEED = `
CREATE ROLE app LOGIN PASSWORD 'app''s secret';
CREATE DATABASE appdb OWNER app;
`;
const TABLES = `
CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, tags text[], created timestamptz DEFAULT '2026-01-01');
INSERT INTO notes (body, tags) SELECT 'note ' || g || repeat(' é', g % 7), ARRAY['t' || g % 3] FROM generate_series(1, 2500) g;
CREATE TABLE blobs (id int PRIMARY KEY, data bytea);
INSERT INTO blobs SELECT g, decode(md5(g::text), 'hex') FROM generate_series(1, 300) g;
CREATE TABLE "Mixed Case" (id int PRIMARY KEY, v jsonb);
INSERT INTO "Mixed Case" VALUES (1, '{"a": [1, 2]}'), (2, 'null');
ALTER TABLE notes OWNER TO app; ALTER TABLE blobs OWNER TO app;
`;

/** Row count and an order-independent checksum of every table in the database. */
function fingerprint(pg: PgCluster, db: string): Record<string, string> {
    const tables = pg
        .sql(db, "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        .split("\n")
        .filter((t) => t !== "");
    return Object.fromEntries(
        tables.map((t) => [
            t,
            pg.sql(
                db,
                `SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') FROM ${t} x`,
            ),
        ]),
    );
}

function runScript(script: string, env: Record<string, string>, args: string[] = []) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-job-"));
    const file = path.join(dir, "job.sh");
    fs.writeFileSync(file, script, { mode: 0o755 });
    return spawnSync("bash", [file, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
}

// As installed in the container (AIDS_PG_RUNAS defaults to postgres there; the test sets it).
const restoreScript = pgRestoreScript();

describePg("pg-dump.sh and pg-restore.sh against a real PostgreSQL", () => {
    let source: PgCluster;
    let target: PgCluster | undefined;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "aids-dumps-"));
    const dumps = path.join(work, "postgresql");
    const textfile = path.join(work, "textfile");
    const metrics = path.join(textfile, "aidualstack_backup_pg_dump_test-pg.prom");
    const jobEnv = (pg: PgCluster) => ({
        ...pg.env,
        AIDS_BACKUP_NAME: "test-pg",
        AIDS_DUMP_DIR: dumps,
        AIDS_KEEP_DAYS: "7",
        AIDS_TEXTFILE_DIR: textfile,
        AIDS_PG_RUNAS: pg.runAs,
    });
    let before: Record<string, Record<string, string>>;

    beforeAll(async () => {
        source = await startCluster(bin as string, "source");
        for (const stmt of SEED.trim().split("\n")) source.sql("postgres", stmt);
        source.sql("appdb", TABLES);
        source.sql("postgres", "CREATE DATABASE second");
        source.sql("second", "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 42)");
        before = { appdb: fingerprint(source, "appdb"), second: fingerprint(source, "second") };
    }, 60_000);
    afterAll(() => {
        source?.stop();
        target?.stop();
        fs.rmSync(work, { recursive: true, force: true });
    });

    test("a dump run writes each database, the roles and their sums, and metrics of success", () => {
        const r = runScript(jobScript("pg-dump.sh"), jobEnv(source));
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const latest = fs.realpathSync(path.join(dumps, "latest"));
        expect(fs.readdirSync(latest).sort()).toEqual([
            "SHA256SUMS",
            "aidualstack.dump",
            "appdb.dump",
            "globals.sql",
            "second.dump",
        ]);
        expect(fs.readFileSync(path.join(latest, "globals.sql"), "utf8")).toMatch(/CREATE ROLE app;/);
        expect(source.sql("aidualstack", "SELECT count(*) FROM backup_runs")).toBe("1");
        const text = fs.readFileSync(metrics, "utf8");
        const labels = '{backup="test-pg",kind="pg_dump"}';
        const run = Number(/aidualstack_backup_last_run_timestamp_seconds\{[^}]*\} (\d+)/.exec(text)?.[1]);
        expect(text).toContain(`aidualstack_backup_last_run_success${labels} 1\n`);
        expect(text).toContain(`aidualstack_backup_last_success_timestamp_seconds${labels} ${run}\n`);
        expect(Math.abs(run - Date.now() / 1000)).toBeLessThan(60);
    });

    test("into a fresh cluster, every table comes back with the same rows and checksums", async () => {
        target = await startCluster(bin as string, "target");
        const r = runScript(restoreScript, { ...target.env, AIDS_PG_RUNAS: target.runAs }, [
            path.join(dumps, "latest"),
        ]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(fingerprint(target, "appdb")).toEqual(before["appdb"]);
        expect(fingerprint(target, "second")).toEqual(before["second"]);
        expect(Object.keys(before["appdb"] ?? {})).toHaveLength(3);
        expect(target.sql("appdb", "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'")).toBe("app");
        expect(target.sql("postgres", "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app'")).toBe("t");
        // The drill's known table: the run the dump recorded.
        expect(target.sql("aidualstack", "SELECT count(*) FROM backup_runs")).toBe("1");
    }, 60_000);

    test("the restore refuses an existing database unless told to replace it", () => {
        const env = { ...(target as PgCluster).env, AIDS_PG_RUNAS: (target as PgCluster).runAs };
        const again = runScript(restoreScript, env, [path.join(dumps, "latest")]);
        expect(again.status).toBe(1);
        expect(again.stderr).toContain("database aidualstack exists; pass --replace to drop it first");
        const replaced = runScript(restoreScript, env, ["--replace", path.join(dumps, "latest")]);
        expect(replaced.status).toBe(0);
        expect(fingerprint(target as PgCluster, "appdb")).toEqual(before["appdb"]);
    }, 60_000);

    test("a damaged dump is refused by its checksum before anything is restored", () => {
        const copy = path.join(work, "damaged");
        fs.cpSync(fs.realpathSync(path.join(dumps, "latest")), copy, { recursive: true });
        fs.appendFileSync(path.join(copy, "second.dump"), "x");
        const env = { ...(target as PgCluster).env, AIDS_PG_RUNAS: (target as PgCluster).runAs };
        const r = runScript(restoreScript, env, ["--replace", copy]);
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(/second\.dump: FAILED/);
    });

    test("a failed run leaves success 0 and keeps the last success's time", () => {
        const text = fs.readFileSync(metrics, "utf8");
        const lastOk = /aidualstack_backup_last_success_timestamp_seconds\{[^}]*\} (\d+)/.exec(text)?.[1];
        const r = runScript(jobScript("pg-dump.sh"), { ...jobEnv(source), PGPORT: "1" });
        expect(r.status).toBe(1);
        const after = fs.readFileSync(metrics, "utf8");
        expect(after).toContain('aidualstack_backup_last_run_success{backup="test-pg",kind="pg_dump"} 0\n');
        expect(after).toContain(
            `aidualstack_backup_last_success_timestamp_seconds{backup="test-pg",kind="pg_dump"} ${lastOk}\n`,
        );
        // No half-written run is left behind, and the good one stays the latest.
        expect(fs.readdirSync(dumps).filter((d) => d.endsWith(".partial"))).toEqual([]);
        expect(fs.existsSync(path.join(fs.realpathSync(path.join(dumps, "latest")), "appdb.dump"))).toBe(true);
    });
});
