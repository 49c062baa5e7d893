// A throwaway PostgreSQL cluster for tests: Debian's `postgresql` binaries (initdb, pg_ctl), a data
// directory under the system temp folder, listening on 127.0.0.1 only, on a free port. As root the
// cluster runs as the `postgres` user (initdb refuses root), and `runAs` says so to the scripts.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** The directory holding initdb and pg_ctl: $AIDS_PG_BIN, Debian's newest /usr/lib/postgresql/N/bin, or PATH. */
export function findPgBin(): string | undefined {
    const candidates = [process.env["AIDS_PG_BIN"]];
    const debian = "/usr/lib/postgresql";
    if (fs.existsSync(debian)) {
        const versions = fs
            .readdirSync(debian)
            .filter((v) => /^\d+$/.test(v))
            .sort((a, b) => Number(b) - Number(a));
        candidates.push(...versions.map((v) => path.join(debian, v, "bin")));
    }
    const onPath = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
    if (onPath) candidates.push(path.dirname(onPath));
    const found = candidates.find(
        (d) => d && fs.existsSync(path.join(d, "initdb")) && fs.existsSync(path.join(d, "pg_ctl")),
    );
    if (!found && process.env["CI"]) {
        throw new Error("PostgreSQL (initdb, pg_ctl) is not installed; .ci/run installs Debian's postgresql");
    }
    if (!found)
        console.warn("PostgreSQL not found: the dump-and-restore tests are skipped (apt-get install postgresql)");
    return found;
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
        srv.on("error", reject);
    });
}

export interface PgCluster {
    readonly port: number;
    /** The user the PostgreSQL clients run as ("" when the test's own user). */
    readonly runAs: string;
    /** The environment for libpq clients and the project's scripts. */
    readonly env: Record<string, string>;
    /** Runs SQL in a database; returns psql's unaligned output. */
    sql(db: string, query: string): string;
    stop(): void;
}

export async function startCluster(bin: string, name: string): Promise<PgCluster> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `aids-pg-${name}-`));
    const runAs = process.getuid?.() === 0 ? "postgres" : "";
    if (runAs) {
        execFileSync("chown", ["-R", runAs, root]);
        fs.chmodSync(root, 0o755);
    }
    const as = (cmd: string, args: string[]) =>
        runAs
            ? execFileSync("runuser", ["-u", runAs, "--", cmd, ...args], { encoding: "utf8" })
            : execFileSync(cmd, args, { encoding: "utf8" });
    const data = path.join(root, "data");
    const port = await freePort();
    as(path.join(bin, "initdb"), ["-D", data, "-A", "trust", "-E", "UTF8", "--no-sync"]);
    as(path.join(bin, "pg_ctl"), [
        "-D",
        data,
        "-l",
        path.join(root, "log"),
        "-w",
        "-o",
        `-c listen_addresses=127.0.0.1 -p ${port} -k ${root} -c fsync=off`,
        "start",
    ]);
    const env = { PGHOST: "127.0.0.1", PGPORT: String(port), PATH: `${bin}:${process.env["PATH"] ?? ""}` };
    return {
        port,
        runAs,
        env,
        sql(db, query) {
            const args = ["-XAtqd", db, "-v", "ON_ERROR_STOP=1", "-c", query];
            const cmd = path.join(bin, "psql");
            const opts = { encoding: "utf8" as const, env: { ...process.env, ...env } };
            return (
                runAs ? execFileSync("runuser", ["-u", runAs, "--", cmd, ...args], opts) : execFileSync(cmd, args, opts)
            ).trim();
        },
        stop() {
            as(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"]);
            fs.rmSync(root, { recursive: true, force: true });
        },
    };
}
