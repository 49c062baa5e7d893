// The backup scripts: every rendered one passes shellcheck; the vector-store snapshot job runs for
// real (bash, curl, tar, sha256sum) against a stand-in of Qdrant's snapshot API on 127.0.0.1 and a
// stand-in `docker` that records its calls, and writes the agreed metrics.

import { execFile, execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import {
    jobScript,
    pgDumpJob,
    pgRestoreScript,
    renderPbsSetup,
    renderTimerSetup,
    storeList,
    vectorJob,
} from "../../../components/backup/render";
import { BackupServerModel } from "../../../config/resolve/backup";
import { PROXMOX_RELEASE_KEYS } from "../../../lib/aptKeys";
import { makeKey } from "../../helpers/gpgKey";
import { shellcheckScripts, validator } from "../../helpers/sandbox";

const dumps = { schedule: "*-*-* 01:30", keepDays: 7 };
const retention = { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 };
const server: BackupServerModel = {
    container: "private-backup",
    node: "pve1",
    address: "10.10.10.25",
    version: "3.4.1-1",
    gcSchedule: "*-*-* 03:30",
    pruneSchedule: "*-*-* 03:00",
    verifySchedule: "sat 04:00",
    datastores: [
        { environment: "private", storage: "tank-private", sizeGiB: 600, passwordSecret: "a", retention },
        { environment: "public", storage: "tank-private", sizeGiB: 300, passwordSecret: "b", retention },
    ],
    offsite: {
        host: "pbs.offsite.example",
        fingerprint: Array(32).fill("ab").join(":"),
        authId: "sync@pbs",
        passwordSecret: "c",
        datastorePrefix: "aids",
        schedule: "*-*-* 06:00",
    },
};
const stores = [
    { service: "chromadb", kind: "chroma" as const, volume: "public-ai-chroma-data" },
    { service: "qdrant", kind: "qdrant" as const, apiKeySecret: "qdrantApiKey" },
];

const shellcheck = validator("shellcheck");
const gpg = validator("gpg");
(shellcheck ? test : test.skip)("shellcheck finds nothing in any backup script, as rendered", () => {
    expect(() =>
        shellcheckScripts(shellcheck as string, {
            "pg-dump.sh": jobScript("pg-dump.sh"),
            "vector-snapshot.sh": jobScript("vector-snapshot.sh"),
            "pbs-metrics.sh": jobScript("pbs-metrics.sh"),
            "pg-restore.sh": pgRestoreScript(),
            "timer-pg.sh": renderTimerSetup(pgDumpJob("private-postgres", dumps)),
            "timer-vector.sh": renderTimerSetup(vectorJob("public-ai", stores, dumps, "k'ey")),
            "pbs-setup.sh": renderPbsSetup(server, { private: "p'w", public: "pw2" }, "off"),
        }),
    ).not.toThrow();
});

test("the PBS setup carries each datastore, its user's password and retention, and the off-site push", () => {
    const script = renderPbsSetup(server, { private: "p'w", public: "pw2" }, "offpw");
    expect(script).toContain("AIDS_PBS_VERSION='3.4.1-1'");
    expect(script).toContain("AIDS_DATASTORES='private:/srv/pbs/private public:/srv/pbs/public'");
    expect(script).toContain("declare -A AIDS_PASSWORDS=([private]='p'\\''w' [public]='pw2')");
    expect(script).toContain("declare -A AIDS_KEEP=([private]='7 4 6' [public]='7 4 6')");
    expect(script).toContain("AIDS_OFFSITE_HOST='pbs.offsite.example'");
    expect(script).toContain("AIDS_OFFSITE_PASSWORD='offpw'");
    // At least the configured version, never held: Proxmox ships PBS's security fixes as new versions.
    expect(script).toContain('pkg_floor proxmox-backup-server "$AIDS_PBS_VERSION"');
    expect(script).not.toContain("apt-mark hold");
    expect(script).toContain("--sync-direction push");
    expect(script).toContain('"$mgr" acl update "/datastore/$env/$env" DatastoreBackup --auth-id "$user"');
    // Without an off-site server, no password of one is rendered.
    expect(renderPbsSetup({ ...server, offsite: undefined }, {}, "offpw")).toContain("AIDS_OFFSITE_PASSWORD=''");
});

/** A stand-in of Qdrant's snapshot API: create, download, delete, behind an api-key. */
function qdrantStandIn(key: string): Promise<{ port: number; calls: string[]; close: () => void }> {
    const calls: string[] = [];
    const srv = http.createServer((req, res) => {
        calls.push(`${req.method} ${req.url}`);
        if (req.headers["api-key"] !== key) res.writeHead(401).end();
        else if (req.method === "POST" && req.url === "/snapshots?wait=true") {
            res.end(JSON.stringify({ result: { name: "full-2026.snapshot" }, status: "ok" }));
        } else if (req.method === "GET" && req.url === "/snapshots/full-2026.snapshot")
            res.end("QDRANT-SNAPSHOT-BYTES");
        else if (req.method === "DELETE") res.end(JSON.stringify({ result: true }));
        else res.writeHead(404).end();
    });
    return new Promise((resolve) =>
        srv.listen(0, "127.0.0.1", () =>
            resolve({ port: (srv.address() as { port: number }).port, calls, close: () => srv.close() }),
        ),
    );
}

function runAsync(
    file: string,
    env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) =>
        execFile("bash", [file], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
            resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        ),
    );
}

describe("vector-snapshot.sh, run for real with stand-ins", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-vec-"));
    const bin = path.join(root, "bin");
    const volume = path.join(root, "chroma-volume");
    const log = path.join(root, "docker.log");
    const out = path.join(root, "backups");
    const textfile = path.join(root, "textfile");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(volume, "segments"), { recursive: true });
    fs.writeFileSync(path.join(volume, "chroma.sqlite3"), "SQLITE");
    fs.writeFileSync(path.join(volume, "segments", "index.bin"), "HNSW");
    fs.writeFileSync(
        path.join(bin, "docker"),
        `#!/usr/bin/env bash\necho "docker $*" >> "${log}"\ncase "$1 $2" in\n"inspect -f"*) echo 127.0.0.1 ;;\n"volume inspect") echo "${volume}" ;;\nesac\n`,
        { mode: 0o755 },
    );
    // curl is the real one, behind a stand-in that records its arguments: what `ps` would show.
    const curlArgs = path.join(root, "curl.args");
    const realCurl = execFileSync("bash", ["-c", "command -v curl"], { encoding: "utf8" }).trim();
    fs.writeFileSync(
        path.join(bin, "curl"),
        `#!/usr/bin/env bash\nprintf '%s\\n' "$@" >> "${curlArgs}"\nexec "${realCurl}" "$@"\n`,
        { mode: 0o755 },
    );
    const job = path.join(root, "job.sh");
    fs.writeFileSync(job, jobScript("vector-snapshot.sh"));
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

    test("Qdrant's snapshot is created, downloaded and deleted; Chroma is paused for its archive; metrics of both", async () => {
        const qdrant = await qdrantStandIn("s3cret");
        try {
            const env = {
                PATH: `${bin}:${process.env["PATH"] ?? ""}`,
                AIDS_STORES: storeList(stores),
                AIDS_SNAPSHOT_DIR: out,
                AIDS_KEEP_DAYS: "7",
                AIDS_TEXTFILE_DIR: textfile,
                AIDS_BACKUP_PREFIX: "public-ai",
                AIDS_QDRANT_PORT: String(qdrant.port),
                QDRANT_API_KEY: "s3cret",
            };
            const r = await runAsync(job, env);
            expect(r.stderr).toBe("");
            expect(r.code).toBe(0);
            // The key reached Qdrant (it answers only to it), but never curl's argv.
            expect(fs.readFileSync(curlArgs, "utf8")).not.toContain("s3cret");
            expect(qdrant.calls).toEqual([
                "POST /snapshots?wait=true",
                "GET /snapshots/full-2026.snapshot",
                "DELETE /snapshots/full-2026.snapshot?wait=true",
            ]);
            const [qRun] = fs.readdirSync(path.join(out, "qdrant"));
            expect(fs.readFileSync(path.join(out, "qdrant", qRun as string, "full-2026.snapshot"), "utf8")).toBe(
                "QDRANT-SNAPSHOT-BYTES",
            );
            const calls = fs
                .readFileSync(log, "utf8")
                .split("\n")
                .filter((l) => /pause|unpause/.test(l));
            expect(calls).toEqual(["docker pause chromadb", "docker unpause chromadb"]);
            const [cRun] = fs.readdirSync(path.join(out, "chroma"));
            const files = fs.readdirSync(path.join(out, "chroma", cRun as string));
            expect(files.filter((f) => f.endsWith(".tar.gz"))).toHaveLength(1);
            for (const [kind, ctr] of [
                ["qdrant", "qdrant"],
                ["chroma", "chromadb"],
            ]) {
                const text = fs.readFileSync(
                    path.join(textfile, `aidualstack_backup_${kind}_public-ai-${ctr}.prom`),
                    "utf8",
                );
                expect(text).toContain(
                    `aidualstack_backup_last_run_success{backup="public-ai-${ctr}",kind="${kind}"} 1\n`,
                );
            }

            // A wrong key: Qdrant fails (metrics 0, nothing half-written), Chroma still succeeds.
            const bad = await runAsync(job, { ...env, QDRANT_API_KEY: "wrong" });
            expect(bad.code).toBe(1);
            expect(bad.stderr).toContain("vector-snapshot: qdrant (qdrant) FAILED");
            const text = fs.readFileSync(
                path.join(textfile, "aidualstack_backup_qdrant_public-ai-qdrant.prom"),
                "utf8",
            );
            expect(text).toContain('aidualstack_backup_last_run_success{backup="public-ai-qdrant",kind="qdrant"} 0\n');
            expect(fs.readdirSync(path.join(out, "qdrant"))).toHaveLength(1);
        } finally {
            qdrant.close();
        }
    }, 30_000);
});

describe("pbs-setup.sh, run by bash with stand-ins that record their arguments", () => {
    const secrets = { private: "pw-Private-S3cr3t", public: "pw-Public-S3cr3t" };
    const offsite = "off-S3cr3t";
    const tokenSecret = "tok-S3cr3t";
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-pbs-"));
    const bin = path.join(root, "bin");
    const argv = path.join(root, "argv.log");
    const received = path.join(root, "received.log");
    const stubs: Record<string, string> = {
        "proxmox-backup-manager": `case "$1 $2" in
  "user generate-token") echo 'Result: {"tokenid": "root@pam!aids-setup", "value": "${tokenSecret}"}' ;;
  "cert info") echo "Fingerprint (sha256): ab:cd" ;;
  *" list") echo "[]" ;;
esac`,
        "proxmox-backup-debug": `[[ "$2" != get ]] || echo "[]"`,
        // What reaches PBS's API: the method and path, the header file's content and each form field.
        curl: `m=GET url="" hdr="" data=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -X) m=$2; shift ;;
    -H) [[ $2 != @* ]] || hdr=$(cat "\${2#@}"); shift ;;
    --data-urlencode) if [[ $2 == *=* ]]; then data+=("$2"); else data+=("\${2%%@*}=$(cat "\${2#*@}")"); fi; shift ;;
    --cacert) shift ;;
    https://*) url=$1 ;;
  esac
  shift
done
{ echo "$m $url"; echo "$hdr"; printf '%s\\n' "\${data[@]}"; } >>"${received}"`,
        "dpkg-query": `echo "${server.version}"`,
        mountpoint: "true",
        systemctl: "true",
        "apt-get": "true",
        "apt-mark": "true",
    };
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(root, "etc", "systemd", "system"), { recursive: true });
    fs.mkdirSync(path.join(root, "tmp"));
    for (const [name, body] of Object.entries(stubs))
        fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >>"${argv}"\n${body}\n`, {
            mode: 0o755,
        });
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

    test("passwords and the token's secret reach PBS's API from files, never a command's arguments", () => {
        const r = spawnSync("bash", ["-s"], {
            input: renderPbsSetup(server, secrets, offsite),
            encoding: "utf8",
            env: {
                ...process.env,
                PATH: `${bin}:${process.env["PATH"] ?? ""}`,
                AIDS_ROOT: root,
                TMPDIR: path.join(root, "tmp"),
            },
        });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        // proxmox-backup-manager takes passwords only as arguments (proxmox-backup
        // src/bin/proxmox_backup_manager/user.rs, remote.rs), which `ps` shows: none appears in any.
        const args = fs.readFileSync(argv, "utf8");
        for (const s of [...Object.values(secrets), offsite, tokenSecret]) expect(args).not.toContain(s);
        const auth = `Authorization: PBSAPIToken root@pam!aids-setup:${tokenSecret}`;
        const got = fs.readFileSync(received, "utf8");
        expect(got).toContain(
            `PUT https://127.0.0.1:8007/api2/json/access/users/private-backup@pbs\n${auth}\npassword=${secrets.private}\n`,
        );
        expect(got).toContain(
            `PUT https://127.0.0.1:8007/api2/json/access/users/public-backup@pbs\n${auth}\npassword=${secrets.public}\n`,
        );
        expect(got).toContain(
            `POST https://127.0.0.1:8007/api2/json/config/remote\n${auth}\nname=offsite\nhost=pbs.offsite.example\nauth-id=sync@pbs\nfingerprint=${server.offsite?.fingerprint}\npassword=${offsite}\n`,
        );
        // The token lives for this run only, with two ACLs; its files are gone at the end.
        expect(args).toContain("proxmox-backup-manager acl update /access/users Admin --auth-id root@pam!aids-setup\n");
        expect(args).toContain("proxmox-backup-manager acl update /remote Admin --auth-id root@pam!aids-setup\n");
        expect(args.trim().split("\n").slice(-3)).toEqual([
            "proxmox-backup-manager user delete-token root@pam aids-setup",
            "proxmox-backup-manager acl update /access/users Admin --auth-id root@pam!aids-setup --delete true",
            "proxmox-backup-manager acl update /remote Admin --auth-id root@pam!aids-setup --delete true",
        ]);
        expect(fs.readdirSync(path.join(root, "tmp"))).toEqual([]);
        expect(r.stdout).toBe("ab:cd\n");
    });
});

// The backup container installs PBS from its own Debian suite: Proxmox builds PBS 3 for bookworm and
// PBS 4 for trixie (proxmox-backup debian/changelog), each suite's repository signed by its release
// key (lib/aptKeys.ts: "Proxmox Bookworm Release Key" F4E1…0C39, "Proxmox Trixie Release Key"
// 24B3…778E, as the copies in pve-manager's aplinfo/ read; the trixie keyring Proxmox documents in
// pve-docs pve-package-repos.adoc may carry the bookworm key beside its own). The set-up runs for real
// (bash, gpg, dpkg) against a stubbed /etc/os-release; the stand-in curl serves keys made here, pinned
// in place of Proxmox's, so the real fingerprint check decides.
(gpg ? describe : describe.skip)("pbs-setup.sh installs PBS from the container's own suite", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-pbs-suite-"));
    const bookwormKey = makeKey(fs.mkdtempSync(path.join(dir, "bookworm-")));
    const trixieKey = makeKey(fs.mkdtempSync(path.join(dir, "trixie-")));
    // The trixie keyring as Proxmox may ship it: its own key and the bookworm one.
    const trixieKeyring = path.join(dir, "trixie-keyring.asc");
    fs.writeFileSync(
        trixieKeyring,
        fs.readFileSync(trixieKey.file, "utf8") + fs.readFileSync(bookwormKey.file, "utf8"),
    );
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** The rendered set-up with the made keys pinned in place of Proxmox's release keys. */
    function script(): string {
        return renderPbsSetup(server, { private: "pw1", public: "pw2" }, "off").replace(
            /^declare -A AIDS_PBS_REPO_B64=\((.*)\)$/m,
            (line: string) =>
                line.replace(/='([^']*)'/g, (_, b64: string) => {
                    const cmd = Buffer.from(b64, "base64")
                        .toString("utf8")
                        .replaceAll(PROXMOX_RELEASE_KEYS.bookworm.fingerprint, bookwormKey.fingerprint)
                        .replaceAll(PROXMOX_RELEASE_KEYS.trixie.fingerprint, trixieKey.fingerprint);
                    return `='${Buffer.from(cmd, "utf8").toString("base64")}'`;
                }),
        );
    }

    /** Runs the set-up in a fresh root whose /etc/os-release names `suite`; `served` maps key URLs to files. */
    function run(suite: string, served: Record<string, string>) {
        const root = fs.mkdtempSync(path.join(dir, "root-"));
        const bin = path.join(root, "bin");
        const log = path.join(root, "calls.log");
        const gnupg = fs.mkdtempSync(path.join(root, "gnupg-"));
        fs.mkdirSync(bin);
        fs.mkdirSync(path.join(root, "etc", "systemd", "system"), { recursive: true });
        fs.mkdirSync(path.join(root, "tmp"));
        fs.writeFileSync(path.join(root, "etc", "os-release"), `PRETTY_NAME="Debian"\nVERSION_CODENAME=${suite}\n`);
        const keys = Object.entries(served)
            .map(([url, file]) => `  ${url}) cp "${file}" "$out" ;;`)
            .join("\n");
        const stubs: Record<string, string> = {
            // The key downloads; every other call (PBS's API on the loopback) answers nothing.
            curl: `out="" url=""
while [[ $# -gt 0 ]]; do case "$1" in -o) out=$2; shift ;; https://*) url=$1 ;; esac; shift; done
[[ -n $out ]] || exit 0
case "$url" in
${keys}
  *) exit 22 ;;
esac`,
            "apt-get": `[[ "$*" != *proxmox-backup-server* ]] || touch "${root}/installed"`,
            "dpkg-query": `[[ ! -f "${root}/installed" ]] || echo "${server.version}"`,
            "apt-mark": "true",
            "proxmox-backup-manager": `case "$1 $2" in
  "user generate-token") echo 'Result: {"value": "tok"}' ;;
  "cert info") echo "Fingerprint (sha256): ab:cd" ;;
  *" list") echo "[]" ;;
esac`,
            "proxmox-backup-debug": `[[ "$2" != get ]] || echo "[]"`,
            mountpoint: "true",
            systemctl: "true",
        };
        for (const [name, body] of Object.entries(stubs))
            fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >>"${log}"\n${body}\n`, {
                mode: 0o755,
            });
        const r = spawnSync("bash", ["-s"], {
            input: script(),
            encoding: "utf8",
            env: {
                ...process.env,
                PATH: `${bin}:${process.env["PATH"] ?? ""}`,
                AIDS_ROOT: root,
                TMPDIR: path.join(root, "tmp"),
                GNUPGHOME: gnupg,
            },
        });
        const read = (p: string) => fs.readFileSync(path.join(root, p), "utf8");
        const exists = (p: string) => fs.existsSync(path.join(root, p));
        const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
        return { ...r, read, exists, calls };
    }

    const { bookworm, trixie } = PROXMOX_RELEASE_KEYS;

    test.each([
        // Debian 12: PBS 3 from the bookworm repository, signed by the bookworm key alone.
        ["bookworm", bookworm.url, () => bookwormKey.file, "/usr/share/keyrings/proxmox-release-bookworm.gpg"],
        // Debian 13: PBS 4 from the trixie repository, its keyring where Proxmox's docs put it.
        ["trixie", trixie.url, () => trixieKeyring, "/usr/share/keyrings/proxmox-archive-keyring.gpg"],
    ])("%s: that suite's repository, with its pinned key, then PBS", (suite, url, keyFile, keyring) => {
        const r = run(suite, { [url]: keyFile() });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.read("etc/apt/sources.list.d/pbs.list")).toBe(
            `deb [signed-by=${keyring}] http://download.proxmox.com/debian/pbs ${suite} pbs-no-subscription\n`,
        );
        expect(r.exists(keyring.slice(1))).toBe(true);
        // The key came from the suite's own URL, over HTTPS, and PBS was installed after it.
        expect(r.calls).toContain(`curl -fsSL ${url} -o `);
        expect(r.calls.indexOf(`curl -fsSL ${url}`)).toBeLessThan(r.calls.indexOf("apt-get install -y -qq -o"));
        expect(r.calls).toMatch(/apt-get install .*proxmox-backup-server/);
        expect(r.stdout.trim().split("\n").pop()).toBe("ab:cd");
    });

    test("the URLs and fingerprints are Proxmox's documented ones, over HTTPS", () => {
        expect(bookworm).toEqual({
            url: "https://enterprise.proxmox.com/debian/proxmox-release-bookworm.gpg",
            fingerprint: "F4E136C67CDCE41AE6DE6FC81140AF8F639E0C39",
        });
        expect(trixie).toEqual({
            url: "https://enterprise.proxmox.com/debian/proxmox-archive-keyring-trixie.gpg",
            fingerprint: "24B30F06ECC1836A4E5EFECBA7BCD1420BFE778E",
            companions: ["F4E136C67CDCE41AE6DE6FC81140AF8F639E0C39"],
        });
    });

    test("trixie served the bookworm key alone: refused by both fingerprints, no repository, no PBS", () => {
        const r = run("trixie", { [trixie.url]: bookwormKey.file });
        expect(r.status).toBe(1);
        expect(r.stderr).toBe(
            `ai-dualstack: the apt key at ${trixie.url} has fingerprint ${bookwormKey.fingerprint}, not the pinned ${trixieKey.fingerprint} (beside, at most, ${bookwormKey.fingerprint}): check the vendor's announcement, then update lib/aptKeys.ts\n`,
        );
        expect(r.exists("etc/apt/sources.list.d/pbs.list")).toBe(false);
        expect(r.exists("usr/share/keyrings/proxmox-archive-keyring.gpg")).toBe(false);
        expect(r.calls).not.toMatch(/apt-get install .*proxmox-backup-server/);
    });

    test("another suite is refused by name before anything is installed or written", () => {
        const r = run("forky", { [bookworm.url]: bookwormKey.file, [trixie.url]: trixieKeyring });
        expect(r.status).toBe(1);
        expect(r.stderr).toBe(
            "pbs-setup: Debian 'forky' (VERSION_CODENAME in /etc/os-release) is not known here; Proxmox Backup Server is installed from the repositories for bookworm (PBS 3) and trixie (PBS 4): use a Debian 12 or 13 template\n",
        );
        expect(r.calls).not.toContain("apt-get");
        expect(r.calls).not.toContain("curl");
        expect(r.exists("etc/apt/sources.list.d")).toBe(false);
    });
});
