// `npm run doctor -- [stack...]`: is this machine ready to `pulumi up`? The Pulumi CLI, the backend
// and its passphrase, the plugins, SSH to each node, the API token's privileges and the order between
// the stacks, each printed ok or with its fix; exits 1 when something blocks an `up`.

import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { accessScope } from "../components/host/access";
import { sshArgs } from "../components/host/check";
import { NAMESPACE, parseSchema, readStackFile } from "../config/load";
import { resolveStack } from "../config/resolve";
import { PROJECT_ROOT } from "../lib/paths";
import { PRIVATE_POLICY } from "../stacks/private";
import { PUBLIC_POLICY } from "../stacks/public";
import { UsageError, parseCli } from "./cli";
import {
    CommandRunner,
    Finding,
    HttpFetch,
    SshRunner,
    WantedPlugin,
    checkBackend,
    checkPlugins,
    checkPulumiCli,
    checkSsh,
    checkStackOrder,
    checkTokenPrivileges,
} from "./doctorChecks";

const USAGE = `Usage: npm run doctor -- [stack...]

Checks what an \`up\` needs, on this machine and on the nodes, and prints each check ok or with its fix:
  the Pulumi CLI ($AIDS_PULUMI_BIN or pulumi on PATH) and its version; the backend login and, for a
  self-managed backend, PULUMI_CONFIG_PASSPHRASE(_FILE); the plugins; SSH to each node with the stack's
  key and the pinned host key; the API token's privileges; the public stack's PBS fingerprint against
  the private stack's output.
Stacks: the ones named, else every Pulumi.<stack>.yaml. Exits 1 when something blocks an \`up\`.`;

/** The command runner: no shell; a program that is not there answers 127, as a shell would. */
export const runCommand: CommandRunner = (cmd, args, env) =>
    new Promise((resolve) => {
        execFile(cmd, [...args], { env: env ?? process.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            const code = err ? (err as NodeJS.ErrnoException).code : 0;
            resolve({ code: code === "ENOENT" ? 127 : typeof code === "number" ? code : err ? 1 : 0, stdout, stderr });
        });
    });

/** The SSH runner: the system ssh with the program's own options (components/host/check.ts sshArgs). */
export function sshRunner(privateKey: string, sshBinary = "ssh"): SshRunner {
    return (t) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-doctor-"));
        fs.writeFileSync(path.join(dir, "key"), privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, {
            mode: 0o600,
        });
        const ssh = { address: t.address, port: t.port, user: t.user, ...(t.hostKey ? { hostKey: t.hostKey } : {}) };
        const args = sshArgs({ node: t.node, ssh, privateKey, script: "" }, dir);
        return new Promise((resolve) => {
            const child = execFile(sshBinary, args, { timeout: 30_000 }, (err, stdout, stderr) => {
                fs.rmSync(dir, { recursive: true, force: true });
                const code = err ? (err as NodeJS.ErrnoException).code : 0;
                resolve({ code: typeof code === "number" ? code : err ? 255 : 0, stdout, stderr });
            });
            child.stdin?.end("echo aids-doctor-ok\n");
        });
    };
}

/** The HTTP fetch: https (TLS checked unless proxmox.insecure) or plain http, 15 s at most. */
export function httpFetch(insecure: boolean): HttpFetch {
    return (url, headers) =>
        new Promise((resolve, reject) => {
            const lib = url.startsWith("https:") ? https : http;
            const req = lib.get(url, { headers, timeout: 15_000, rejectUnauthorized: !insecure }, (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => (body += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            });
            req.on("timeout", () => req.destroy(new Error("no answer in 15 s")));
            req.on("error", reject);
        });
}

/** The resource plugins the SDKs in package.json ask for, from each SDK's own "pulumi" field. */
export function wantedPlugins(root: string = PROJECT_ROOT): WantedPlugin[] {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
    };
    return Object.keys(pkg.dependencies).flatMap((dep) => {
        const file = path.join(root, "node_modules", dep, "package.json");
        if (!fs.existsSync(file)) return [];
        const sdk = JSON.parse(fs.readFileSync(file, "utf8")) as {
            pulumi?: { resource?: boolean; name?: string; version?: string; server?: string };
        };
        const p = sdk.pulumi;
        if (!p?.resource || !p.name || !p.version) return [];
        return [{ name: p.name, version: p.version, ...(p.server ? { server: p.server } : {}) }];
    });
}

function stacksOf(root: string): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

function parseArgs(argv: readonly string[], root: string): string[] | "help" {
    if (argv.includes("--help") || argv.includes("-h")) return "help";
    const unknown = argv.find((a) => a.startsWith("-"));
    if (unknown) throw new UsageError(`unknown option ${unknown}`);
    const known = stacksOf(root);
    const bad = argv.find((s) => !known.includes(s));
    if (bad) throw new UsageError(`no stack "${bad}" (Pulumi.${bad}.yaml); stacks: ${known.join(", ")}`);
    return argv.length > 0 ? [...argv] : known;
}

export interface DoctorDeps {
    readonly run: CommandRunner;
    readonly ssh: (privateKey: string) => SshRunner;
    readonly fetch: (insecure: boolean) => HttpFetch;
    readonly env: NodeJS.ProcessEnv;
    readonly root: string;
    readonly print: (line: string) => void;
}

interface Session {
    readonly deps: DoctorDeps;
    readonly bin: string;
    /** Whether the CLI answered: secrets and outputs are read through it. */
    readonly haveCli: boolean;
    readonly report: (f: Finding) => void;
}

/** A stack's secret, decrypted by the CLI; undefined when it cannot be read. */
async function secretOf(s: Session, stack: string, key: string): Promise<string | undefined> {
    if (!s.haveCli) return undefined;
    const r = await s.deps.run(s.bin, ["config", "get", `${NAMESPACE}:${key}`, "-s", stack], s.deps.env);
    return r.code === 0 && r.stdout.trim() !== "" ? r.stdout.replace(/\n$/, "") : undefined;
}

/** SSH and the token of one stack; its public PBS fingerprint when it is the public stack. */
async function checkStack(s: Session, stack: string): Promise<{ publicFingerprint?: string; isPublic: boolean }> {
    const file = readStackFile(stack, s.deps.root);
    const parsed = file.ok ? parseSchema(file.raw) : file;
    if (!parsed.ok) {
        const first = parsed.issues[0];
        s.report({
            check: `config (${stack})`,
            ok: false,
            detail: `${first ? `${first.path}: ${first.message}` : "does not parse"}; \`npm run plan -- ${stack}\` lists every finding`,
        });
        return { isPublic: false };
    }
    const env = parsed.config.environment;
    const model = resolveStack(parsed.config, stack, { private: PRIVATE_POLICY, public: PUBLIC_POLICY }[env], []);
    const unreadable = (check: string, k: string, fix: string): Finding => ({
        check,
        ok: false,
        detail: s.haveCli
            ? `the ${stack} stack's ${k} cannot be read; ${fix}`
            : `the ${stack} stack's ${k} cannot be read without the Pulumi CLI (above); install it first`,
    });
    const key = await secretOf(s, stack, "sshPrivateKey");
    for (const node of model.nodes) {
        const keyFix = `\`pulumi config set --secret -s ${stack} ${NAMESPACE}:sshPrivateKey < ~/.ssh/ai-dualstack-host\``;
        if (key === undefined) s.report(unreadable(`ssh ${node.name} (${stack})`, "sshPrivateKey", keyFix));
        else s.report(await checkSsh(s.deps.ssh(key), { node: node.name, ...node.ssh }));
    }
    const token = await secretOf(s, stack, "proxmoxApiToken");
    const tokenFix = `\`pulumi config set --secret -s ${stack} ${NAMESPACE}:proxmoxApiToken\``;
    if (token === undefined) s.report(unreadable(`API token (${stack})`, "proxmoxApiToken", tokenFix));
    else {
        const target = { stack, endpoint: model.proxmox.endpoint, token, scope: accessScope(model) };
        s.report(await checkTokenPrivileges(s.deps.fetch(model.proxmox.insecure), target));
    }
    const fingerprint = parsed.config.backup?.pbs?.fingerprint;
    return { isPublic: env === "public", ...(fingerprint ? { publicFingerprint: fingerprint } : {}) };
}

/** Every check for the stacks; the findings in the order printed. */
export async function doctor(stacks: readonly string[], deps: DoctorDeps): Promise<Finding[]> {
    const bin = deps.env["AIDS_PULUMI_BIN"] || "pulumi";
    const pkg = JSON.parse(fs.readFileSync(path.join(deps.root, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
    };
    const findings: Finding[] = [];
    const report = (f: Finding) => {
        findings.push(f);
        deps.print(`${f.ok ? "ok  " : f.advisory ? "warn" : "FAIL"} ${f.check}: ${f.detail}`);
    };
    const cli = await checkPulumiCli(deps.run, bin, pkg.dependencies["@pulumi/pulumi"] ?? "");
    report(cli);
    if (cli.ok) {
        (await checkBackend(deps.run, bin, deps.env)).forEach(report);
        (await checkPlugins(deps.run, bin, wantedPlugins(deps.root))).forEach(report);
    }
    const session: Session = { deps, bin, haveCli: cli.ok, report };
    let pub: { publicFingerprint?: string; isPublic: boolean } | undefined;
    for (const stack of stacks) {
        const result = await checkStack(session, stack);
        if (result.isPublic) pub = result;
    }
    if (pub && cli.ok) report(await checkStackOrder(deps.run, bin, deps.env, pub.publicFingerprint));
    return findings;
}

async function main(): Promise<number> {
    const root = PROJECT_ROOT;
    const stacks = parseCli("doctor", USAGE, () => parseArgs(process.argv.slice(2), root));
    if (typeof stacks === "number") return stacks;
    const findings = await doctor(stacks, {
        run: runCommand,
        ssh: (key) => sshRunner(key),
        fetch: httpFetch,
        env: process.env,
        root,
        print: (line) => console.log(line),
    });
    const blocking = findings.filter((f) => !f.ok && !f.advisory);
    console.log(
        blocking.length === 0
            ? "\nNothing blocks an `up`."
            : `\n${blocking.length} check(s) block an \`up\`; fix them and run \`npm run doctor\` again.`,
    );
    return blocking.length === 0 ? 0 : 1;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err: Error) => {
            console.error(`doctor: ${err.message}`);
            process.exit(1);
        },
    );
}
