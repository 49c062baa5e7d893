// The doctor's checks, each driven with recorded answers of the Pulumi CLI and ssh, and the token's
// privileges against a stub of the Proxmox API on 127.0.0.1. SSH against a real sshd is in
// doctor.live.test.ts.

import * as http from "http";
import { AddressInfo } from "net";
import { AccessScope, accessGrants } from "../../components/host/privileges";
import { PROJECT_ROOT } from "../../lib/paths";
import { doctor, httpFetch, wantedPlugins } from "../../tools/doctor";
import {
    CommandResult,
    CommandRunner,
    checkBackend,
    checkPlugins,
    checkPulumiCli,
    checkSsh,
    checkStackOrder,
    checkTokenPrivileges,
} from "../../tools/doctorChecks";

const answer = (stdout: string, code = 0, stderr = ""): CommandResult => ({ code, stdout, stderr });

/** A CLI that answers from a table keyed by its arguments, and fails the test on anything else. */
function recorded(table: Record<string, CommandResult>): CommandRunner & { calls: string[] } {
    const calls: string[] = [];
    const run = (cmd: string, args: readonly string[]) => {
        const key = [cmd, ...args].join(" ");
        calls.push(key);
        const a = table[key];
        if (!a) throw new Error(`not recorded: ${key}`);
        return Promise.resolve(a);
    };
    return Object.assign(run, { calls });
}

describe("the Pulumi CLI", () => {
    test("the pinned version or newer passes; older or missing fails with the install command", async () => {
        const run = (out: string, code = 0) => recorded({ "pulumi version": answer(out, code) });
        expect((await checkPulumiCli(run("v3.248.0\n"), "pulumi", "3.248.0")).ok).toBe(true);
        expect((await checkPulumiCli(run("v3.250.1\n"), "pulumi", "3.248.0")).ok).toBe(true);
        const old = await checkPulumiCli(run("v3.100.0\n"), "pulumi", "3.248.0");
        expect(old.ok).toBe(false);
        expect(old.detail).toContain("3.100.0, older than the @pulumi/pulumi SDK this project pins (3.248.0)");
        expect(old.detail).toContain("--version 3.248.0");
        const absent = recorded({ "/opt/pulumi/bin/pulumi version": answer("", 127) });
        const missing = await checkPulumiCli(absent, "/opt/pulumi/bin/pulumi", "3.248.0");
        expect(missing.detail).toMatch(/^\/opt\/pulumi\/bin\/pulumi not found; install it/);
    });
});

describe("the backend", () => {
    const whoami = (url: string) => recorded({ "pulumi whoami --verbose": answer(`User: ada\nBackend URL: ${url}\n`) });

    test("a file backend needs the passphrase; Pulumi Cloud does not", async () => {
        const without = await checkBackend(whoami("file:///root/.pulumi-state"), "pulumi", {});
        expect(without.map((f) => [f.check, f.ok])).toEqual([
            ["backend login", true],
            ["secrets passphrase", false],
        ]);
        expect(without[1]?.detail).toContain("export PULUMI_CONFIG_PASSPHRASE_FILE=");
        const withFile = await checkBackend(whoami("s3://bucket"), "pulumi", {
            PULUMI_CONFIG_PASSPHRASE_FILE: "/root/.pp",
        });
        expect(withFile.every((f) => f.ok)).toBe(true);
        // An empty passphrase is a passphrase.
        expect((await checkBackend(whoami("file://~"), "pulumi", { PULUMI_CONFIG_PASSPHRASE: "" }))[1]?.ok).toBe(true);
        const cloud = await checkBackend(whoami("https://api.pulumi.com"), "pulumi", {});
        expect(cloud.map((f) => f.check)).toEqual(["backend login"]);
    });

    test("not logged in says how to log in", async () => {
        const run = recorded({ "pulumi whoami --verbose": answer("", 255, "error: PULUMI_ACCESS_TOKEN must be set") });
        const [f] = await checkBackend(run, "pulumi", {});
        expect(f?.ok).toBe(false);
        expect(f?.detail).toContain("run `pulumi login`");
    });
});

describe("the plugins", () => {
    test("the versions are the ones the SDKs in package.json ask for", () => {
        const wanted = wantedPlugins(PROJECT_ROOT);
        expect(wanted.find((p) => p.name === "proxmoxve")?.version).toBe("8.6.0");
        expect(wanted.find((p) => p.name === "command")?.version).toBe("1.2.1");
    });

    test("a missing or other version names the install command", async () => {
        const ls = JSON.stringify([
            { name: "proxmoxve", kind: "resource", version: "8.6.0" },
            { name: "command", kind: "resource", version: "1.1.0" },
        ]);
        const run = recorded({ "pulumi plugin ls --json": answer(ls) });
        const wanted = [
            { name: "proxmoxve", version: "8.6.0", server: "github://api.github.com/muhlba91/pulumi-proxmoxve" },
            { name: "command", version: "1.2.1" },
            { name: "docker", version: "5.2.0" },
        ];
        const found = await checkPlugins(run, "pulumi", wanted);
        expect(found.map((f) => f.ok)).toEqual([true, false, false]);
        expect(found[1]?.detail).toContain("only 1.1.0 is installed");
        expect(found[1]?.detail).toContain("`pulumi plugin install resource command v1.2.1`");
        expect(found[2]?.detail).toContain("it is not installed");
    });
});

describe("ssh, from ssh's recorded answers", () => {
    const target = { node: "pve1", address: "192.168.1.10", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA" };
    const ssh = (r: CommandResult) => () => Promise.resolve(r);

    test("logged in with the pinned key; not pinned is a warning that says how to pin", async () => {
        expect((await checkSsh(ssh(answer("aids-doctor-ok\n")), target)).ok).toBe(true);
        const { hostKey: _k, ...unpinned } = target;
        const f = await checkSsh(ssh(answer("aids-doctor-ok\n")), unpinned);
        expect([f.ok, f.advisory]).toEqual([false, true]);
        expect(f.detail).toContain("nodes.pve1.sshHostKey is not pinned");
    });

    test("another host key, a refused key and no route each name their own fix", async () => {
        const changed = await checkSsh(ssh(answer("", 255, "Host key verification failed.\n")), target);
        expect(changed.detail).toContain("answered with a host key other than nodes.pve1.sshHostKey");
        const refused = await checkSsh(
            ssh(answer("", 255, "root@192.168.1.10: Permission denied (publickey).\n")),
            target,
        );
        expect(refused.detail).toContain("add the public half of sshPrivateKey to root's ~/.ssh/authorized_keys");
        const down = await checkSsh(
            ssh(answer("", 255, "ssh: connect to host 192.168.1.10 port 22: No route\n")),
            target,
        );
        expect(down.detail).toContain("cannot reach root@192.168.1.10:22 over SSH");
        expect([changed, refused, down].every((f) => !f.ok && !f.advisory)).toBe(true);
    });
});

describe("the token's privileges, against a stub of the Proxmox API", () => {
    const TOKEN = "aids-private@pve!pulumi=11111111-2222-3333-4444-555555555555";
    const scope: AccessScope = {
        environment: "private",
        pveMajor: 9,
        nodes: ["pve1"],
        storages: ["tank-private"],
        filesDatastore: "local",
        mappings: ["private-rtx5090"],
        bridges: ["vmbr1"],
        monitoringIdentity: false,
    };
    let server: http.Server;
    let endpoint: string;
    /** What the stub grants: path → privileges; the test takes one away. */
    let granted: Record<string, Record<string, number>>;
    const asked: string[] = [];

    beforeAll(async () => {
        server = http.createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://stub");
            if (req.headers.authorization !== `PVEAPIToken=${TOKEN}`) {
                res.writeHead(401).end();
                return;
            }
            if (url.pathname !== "/api2/json/access/permissions") {
                res.writeHead(501).end();
                return;
            }
            const p = url.searchParams.get("path") ?? "";
            asked.push(p);
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ data: { [p]: granted[p] ?? {} } }));
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    beforeEach(() => {
        asked.length = 0;
        granted = {};
        for (const g of accessGrants(scope)) {
            for (const p of g.paths) {
                for (const x of g.privileges) granted[p] = { ...granted[p], [x.privilege]: 1 };
            }
        }
    });

    test("every privilege on every path: ok, and each path was asked", async () => {
        const f = await checkTokenPrivileges(httpFetch(false), { stack: "private", endpoint, token: TOKEN, scope });
        expect(f.ok).toBe(true);
        expect(asked.sort()).toEqual([...new Set(accessGrants(scope).flatMap((g) => g.paths))].sort());
    });

    test("a missing privilege names the privilege, the path and the fix", async () => {
        delete granted["/mapping/pci/private-rtx5090"]?.["Mapping.Use"];
        const f = await checkTokenPrivileges(httpFetch(false), { stack: "private", endpoint, token: TOKEN, scope });
        expect(f.ok).toBe(false);
        expect(f.detail).toBe(
            "aids-private@pve!pulumi lacks 1 privilege(s) the program needs:\n" +
                "    Mapping.Use on /mapping/pci/private-rtx5090: grant it with `pveum acl modify /mapping/pci/private-rtx5090 --tokens 'aids-private@pve!pulumi' --roles <a role holding Mapping.Use> --propagate 0` (docs/deploying.md lists the roles), or run with proxmox.apiAccess \"managed\"",
        );
    });

    test("a refused token and an unreachable API say so, with the fix", async () => {
        const wrong = await checkTokenPrivileges(httpFetch(false), {
            stack: "private",
            endpoint,
            token: "aids-private@pve!pulumi=00000000-0000-0000-0000-000000000000",
            scope,
        });
        expect(wrong.detail).toContain("the API refused the token aids-private@pve!pulumi (401)");
        const offline = await checkTokenPrivileges(httpFetch(false), {
            stack: "private",
            endpoint: "http://127.0.0.1:1/",
            token: TOKEN,
            scope,
        });
        expect(offline.ok).toBe(false);
        expect(offline.detail).toMatch(/^cannot reach the Proxmox API at http:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED/);
    });
});

describe("the order between the stacks", () => {
    const FP = "aa:bb:cc";
    const outputs = (fp?: string) =>
        recorded({
            "pulumi stack output --json -s private": answer(
                JSON.stringify(fp ? { backup: { server: { fingerprint: fp } } } : {}),
            ),
        });

    test("the public stack pins the private PBS's fingerprint", async () => {
        expect((await checkStackOrder(outputs(FP), "pulumi", {}, "AA:BB:CC")).ok).toBe(true);
        const other = await checkStackOrder(outputs(FP), "pulumi", {}, "00:00:00");
        expect(other.detail).toContain("backup.pbs.fingerprint (00:00:00) is not the private PBS's (aa:bb:cc)");
        const first = await checkStackOrder(outputs(), "pulumi", {}, "00:00:00");
        expect(first.detail).toContain("the private stack goes first: `pulumi up -s private`");
    });
});

test("doctor: without the CLI every stack's secrets fail with one cause, and the run blocks", async () => {
    const lines: string[] = [];
    const findings = await doctor(["private"], {
        run: recorded({ "pulumi version": answer("", 127) }),
        ssh: () => () => Promise.reject(new Error("no ssh without a key")),
        fetch: () => () => Promise.reject(new Error("no fetch without a token")),
        env: {},
        root: PROJECT_ROOT,
        print: (l) => lines.push(l),
    });
    expect(findings.filter((f) => !f.ok).map((f) => f.check)).toEqual([
        "Pulumi CLI",
        "ssh pve1 (private)",
        "API token (private)",
    ]);
    expect(lines[1]).toBe(
        "FAIL ssh pve1 (private): the private stack's sshPrivateKey cannot be read without the Pulumi CLI (above); install it first",
    );
});

test("doctor: both shipped stacks with a recorded CLI, node and API; the public stack's placeholder fingerprint blocks", async () => {
    const secrets: Record<string, string> = {};
    for (const s of ["private", "public"]) {
        secrets[`pulumi config get ai-dualstack:sshPrivateKey -s ${s}`] = `KEY-${s}\n`;
        secrets[`pulumi config get ai-dualstack:proxmoxApiToken -s ${s}`] = `aids-${s}@pve!pulumi=${s}\n`;
    }
    const plugins = wantedPlugins(PROJECT_ROOT).map((p) => ({ name: p.name, kind: "resource", version: p.version }));
    const run = recorded({
        "pulumi version": answer("v3.248.0\n"),
        "pulumi whoami --verbose": answer("User: ada\nBackend URL: file://~\n"),
        "pulumi plugin ls --json": answer(JSON.stringify(plugins)),
        "pulumi stack output --json -s private": answer(
            JSON.stringify({ backup: { server: { fingerprint: "ab:cd" } } }),
        ),
        ...Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, answer(v)])),
    });
    const keysUsed: string[] = [];
    const tokensUsed: string[] = [];
    const lines: string[] = [];
    const findings = await doctor(["private", "public"], {
        run,
        ssh: (key) => (t) => {
            keysUsed.push(`${key} ${t.user}@${t.address}:${t.port} ${t.hostKey ?? "unpinned"}`);
            return Promise.resolve(answer("aids-doctor-ok\n"));
        },
        fetch: () => (_url, headers) => {
            tokensUsed.push(headers["Authorization"] ?? "");
            return Promise.resolve({ status: 200, body: JSON.stringify({ data: {} }) });
        },
        env: { PULUMI_CONFIG_PASSPHRASE: "x" },
        root: PROJECT_ROOT,
        print: (l) => lines.push(l),
    });
    // Each stack's own key and token, never the other's; the secrets reach no printed line.
    expect([...new Set(keysUsed.map((k) => k.split(" ")[0]))]).toEqual(["KEY-private", "KEY-public"]);
    expect([...new Set(tokensUsed)]).toEqual([
        "PVEAPIToken=aids-private@pve!pulumi=private",
        "PVEAPIToken=aids-public@pve!pulumi=public",
    ]);
    expect(lines.join("\n")).not.toMatch(/KEY-|pulumi=p(rivate|ublic)\b/);
    const byCheck = Object.fromEntries(findings.map((f) => [f.check, f.ok]));
    expect(byCheck).toMatchObject({
        "Pulumi CLI": true,
        "backend login": true,
        "secrets passphrase": true,
        "plugin proxmoxve": true,
        "API token (private)": false,
        "stack order": false,
    });
    expect(findings.find((f) => f.check === "stack order")?.detail).toContain("is not the private PBS's (ab:cd)");
});
