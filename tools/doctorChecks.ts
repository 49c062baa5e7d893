// The checks `npm run doctor` runs before an `up`: each a plain function over injected runners (a
// command runner, an SSH runner, an HTTP fetch), so tests drive them with recorded answers. Each
// returns findings: ok, or what is wrong with the fix, and whether it blocks an `up`.

import { AccessScope, Grant, accessGrants } from "../components/host/privileges";

export interface Finding {
    readonly check: string;
    readonly ok: boolean;
    /** What was found; on a failure, what is wrong and the fix. */
    readonly detail: string;
    /** A failure that does not block an `up` (a warning). */
    readonly advisory?: boolean;
}

export interface CommandResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a program with arguments (no shell); a missing program answers code 127. */
export type CommandRunner = (cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv) => Promise<CommandResult>;

const ok = (check: string, detail: string): Finding => ({ check, ok: true, detail });
const fail = (check: string, detail: string, advisory = false): Finding => ({
    check,
    ok: false,
    detail,
    ...(advisory ? { advisory } : {}),
});

/** "3.248.0" → [3, 248, 0]; undefined for anything else. */
export function parseVersion(text: string): number[] | undefined {
    const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
    for (let i = 0; i < 3; i++) {
        const d = (a[i] ?? 0) - (b[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

const INSTALL_CLI = (want: string) =>
    `install it with \`curl -fsSL https://get.pulumi.com | sh -s -- --version ${want}\` (https://www.pulumi.com/docs/install/), or point AIDS_PULUMI_BIN at one`;

/** The Pulumi CLI: present, and not older than the SDK the program is built with. */
export async function checkPulumiCli(run: CommandRunner, bin: string, sdkVersion: string): Promise<Finding> {
    const check = "Pulumi CLI";
    const r = await run(bin, ["version"]);
    if (r.code === 127) return fail(check, `${bin} not found; ${INSTALL_CLI(sdkVersion)}`);
    const have = parseVersion(r.stdout);
    const want = parseVersion(sdkVersion);
    if (r.code !== 0 || !have || !want) {
        return fail(check, `\`${bin} version\` failed (${(r.stderr || r.stdout).trim()}); ${INSTALL_CLI(sdkVersion)}`);
    }
    if (compareVersions(have, want) < 0) {
        return fail(
            check,
            `${bin} is ${have.join(".")}, older than the @pulumi/pulumi SDK this project pins (${sdkVersion}); ${INSTALL_CLI(sdkVersion)}`,
        );
    }
    return ok(check, `${bin} ${have.join(".")} (the SDK is ${sdkVersion})`);
}

/** The backend: logged in, and for a self-managed backend the passphrase that decrypts the secrets. */
export async function checkBackend(run: CommandRunner, bin: string, env: NodeJS.ProcessEnv): Promise<Finding[]> {
    const r = await run(bin, ["whoami", "--verbose"], env);
    if (r.code !== 0) {
        return [
            fail(
                "backend login",
                `not logged in to a Pulumi backend (${(r.stderr || r.stdout).trim()}); run \`pulumi login\` (Pulumi Cloud), or \`pulumi login file://~/.pulumi-state\` for a backend on this machine`,
            ),
        ];
    }
    const url = /Backend URL:\s*(\S+)/.exec(r.stdout)?.[1] ?? "";
    const user = /User:\s*(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim().split("\n")[0] ?? "";
    const login = ok("backend login", `${user} at ${url || "the backend"}`);
    // Pulumi Cloud keeps the secrets' key itself; every other backend (file://, s3://, azblob://,
    // gs://) encrypts with the passphrase the stack was created with.
    const cloud = url === "" || /^https?:\/\//.test(url);
    if (cloud) return [login];
    const passphrase = env["PULUMI_CONFIG_PASSPHRASE"] !== undefined || env["PULUMI_CONFIG_PASSPHRASE_FILE"];
    return [
        login,
        passphrase
            ? ok("secrets passphrase", "PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE is set")
            : fail(
                  "secrets passphrase",
                  `the backend ${url} is self-managed, so the stacks' secrets are encrypted with a passphrase, and neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set; export PULUMI_CONFIG_PASSPHRASE_FILE=<a file holding it> (or PULUMI_CONFIG_PASSPHRASE)`,
              ),
    ];
}

/** A resource plugin an SDK package asks for (its package.json's "pulumi" field). */
export interface WantedPlugin {
    readonly name: string;
    readonly version: string;
    /** Where it is downloaded from, for `pulumi plugin install --server`. */
    readonly server?: string;
}

/** `pulumi plugin ls --json`: each wanted resource plugin at exactly its SDK's version. */
export async function checkPlugins(
    run: CommandRunner,
    bin: string,
    wanted: readonly WantedPlugin[],
): Promise<Finding[]> {
    const r = await run(bin, ["plugin", "ls", "--json"]);
    let installed: { name?: string; kind?: string; version?: string }[] = [];
    try {
        if (r.code === 0) installed = JSON.parse(r.stdout || "[]") as typeof installed;
    } catch {
        installed = []; // unreadable: every plugin reads as missing, with its install command
    }
    return wanted.map((w) => {
        const check = `plugin ${w.name}`;
        const install = `pulumi plugin install resource ${w.name} v${w.version}${w.server ? ` --server ${w.server}` : ""}`;
        if (r.code !== 0)
            return fail(check, `\`pulumi plugin ls\` failed (${r.stderr.trim()}); then run \`${install}\``);
        const versions = installed
            .filter((p) => p.name === w.name && (p.kind ?? "resource") === "resource")
            .map((p) => p.version);
        if (versions.includes(w.version)) return ok(check, `${w.name} ${w.version}`);
        const others = versions.length > 0 ? `only ${versions.join(", ")} is installed` : "it is not installed";
        return fail(
            check,
            `${w.name} ${w.version} (what the SDK in package.json asks for): ${others}, and a machine that cannot download it stops at the first resource; run \`${install}\``,
        );
    });
}

/** Where SSH logs in to a node, as the program does (components/host/check.ts). */
export interface SshTarget {
    readonly node: string;
    readonly address: string;
    readonly port: number;
    readonly user: string;
    readonly hostKey?: string;
}

/** Runs `echo` on a node with the stack's key and the pinned host key; answers ssh's own result. */
export type SshRunner = (target: SshTarget) => Promise<CommandResult>;

/** SSH to a node with the configured key, the host key pinned (nodes.<node>.sshHostKey). */
export async function checkSsh(ssh: SshRunner, t: SshTarget): Promise<Finding> {
    const check = `ssh ${t.node}`;
    const who = `${t.user}@${t.address}:${t.port}`;
    const r = await ssh(t);
    const keyscan = `ssh-keyscan -p ${t.port} -t ed25519 ${t.address}`;
    if (r.code === 0 && r.stdout.includes("aids-doctor-ok")) {
        if (!t.hostKey) {
            return fail(
                check,
                `logged in to ${who}, but nodes.${t.node}.sshHostKey is not pinned, so the program trusts whatever key answers first; check the key on the node's console (\`cat /etc/ssh/ssh_host_ed25519_key.pub\`) and pin it: \`${keyscan}\` prints it after the host name`,
                true,
            );
        }
        return ok(check, `${who} with the pinned host key`);
    }
    const err = r.stderr.trim();
    if (/host key verification failed|remote host identification has changed|no .* host key is known/i.test(err)) {
        return fail(
            check,
            `${who} answered with a host key other than nodes.${t.node}.sshHostKey (${err.split("\n").pop() ?? ""}); if the node was reinstalled, compare \`cat /etc/ssh/ssh_host_ed25519_key.pub\` on its console with \`${keyscan}\` and pin the new key; if not, something else answers at that address`,
        );
    }
    if (/permission denied/i.test(err)) {
        return fail(
            check,
            `${who} refused the key (${err.split("\n").pop() ?? ""}); add the public half of sshPrivateKey to ${t.user}'s ~/.ssh/authorized_keys on the node (\`ssh-keygen -y -f <key>\` prints it)`,
        );
    }
    return fail(
        check,
        `cannot reach ${who} over SSH (${err.split("\n").pop() || `exit ${r.code}`}); check nodes.${t.node}.address, sshPort and sshUser, and that the node is up`,
    );
}

/** A GET with headers; answers the status and the body's text, or throws when nothing answers. */
export type HttpFetch = (url: string, headers: Record<string, string>) => Promise<{ status: number; body: string }>;

export interface TokenTarget {
    readonly stack: string;
    /** proxmox.endpoint, such as "https://192.168.1.10:8006/". */
    readonly endpoint: string;
    /** proxmoxApiToken: `user@realm!tokenid=uuid`. */
    readonly token: string;
    readonly scope: AccessScope;
}

/**
 * The token's privileges against every grant the program needs (components/host/privileges.ts),
 * each path asked on its own: `GET /api2/json/access/permissions?path=<path>` answers the token's
 * effective privileges there, inherited ones included (pve-access-control src/PVE/API2/AccessControl.pm,
 * method "permissions"; a token asks about itself without Sys.Audit).
 */
export async function checkTokenPrivileges(fetch: HttpFetch, t: TokenTarget): Promise<Finding> {
    const check = `API token (${t.stack})`;
    const base = t.endpoint.replace(/\/+$/, "");
    const tokenId = t.token.split("=")[0] ?? "";
    const headers = { Authorization: `PVEAPIToken=${t.token}` };
    const grants = accessGrants(t.scope);
    const paths = [...new Set(grants.flatMap((g) => g.paths))];
    const missing: string[] = [];
    for (const p of paths) {
        const url = `${base}/api2/json/access/permissions?path=${encodeURIComponent(p)}`;
        let res: { status: number; body: string };
        try {
            res = await fetch(url, headers);
        } catch (e) {
            return fail(
                check,
                `cannot reach the Proxmox API at ${base} (${(e as Error).message}); check proxmox.endpoint, that this machine reaches the node, and proxmox.insecure for a self-signed certificate`,
            );
        }
        if (res.status === 401) {
            return fail(
                check,
                `the API refused the token ${tokenId} (401); set proxmoxApiToken to the whole token, "user@realm!name=<secret>": \`pulumi config set --secret -s ${t.stack} ai-dualstack:proxmoxApiToken\``,
            );
        }
        if (res.status !== 200) {
            return fail(check, `GET ${url} answered ${res.status}; check proxmox.endpoint (${t.endpoint})`);
        }
        const privs = effectivePrivileges(res.body, p);
        for (const g of grants.filter((x) => x.paths.includes(p))) {
            for (const priv of g.privileges) {
                if (!privs.has(priv.privilege)) missing.push(missingLine(t, g, p, priv.privilege));
            }
        }
    }
    if (missing.length === 0) {
        const count = grants.reduce((n, g) => n + g.paths.length * g.privileges.length, 0);
        return ok(check, `${tokenId} holds all ${count} privileges on ${paths.length} paths`);
    }
    return fail(check, `${tokenId} lacks ${missing.length} privilege(s) the program needs:\n${missing.join("\n")}`);
}

/** The privileges the answer grants at `path` (a privilege with value 1 or 0; 0 means "without propagate"). */
function effectivePrivileges(body: string, path: string): Set<string> {
    const data = (JSON.parse(body) as { data?: Record<string, Record<string, number>> }).data ?? {};
    return new Set(Object.keys(data[path] ?? {}));
}

function missingLine(t: TokenTarget, g: Grant, path: string, privilege: string): string {
    const tokenId = t.token.split("=")[0] ?? "";
    return `    ${privilege} on ${path}: grant it with \`pveum acl modify ${path} --tokens '${tokenId}' --roles <a role holding ${privilege}> --propagate ${g.propagate ? 1 : 0}\` (docs/deploying.md lists the roles), or run with proxmox.apiAccess "managed"`;
}

/**
 * The order between the stacks: the public stack pins the private PBS's certificate
 * (backup.pbs.fingerprint), which the private stack's output backup.server.fingerprint gives after
 * its `up`.
 */
export async function checkStackOrder(
    run: CommandRunner,
    bin: string,
    env: NodeJS.ProcessEnv,
    publicFingerprint: string | undefined,
    privateStack = "private",
    publicStack = "public",
): Promise<Finding> {
    const check = "stack order";
    if (publicFingerprint === undefined) return ok(check, `the ${publicStack} stack pins no PBS of another stack`);
    const r = await run(bin, ["stack", "output", "--json", "-s", privateStack], env);
    const fix = `copy it into the ${publicStack} stack: \`pulumi config set --path -s ${publicStack} 'ai-dualstack:backup.pbs.fingerprint' "$(pulumi stack output -s ${privateStack} --json | jq -r .backup.server.fingerprint)"\``;
    let fingerprint: string | undefined;
    try {
        const outputs =
            r.code === 0 ? (JSON.parse(r.stdout) as { backup?: { server?: { fingerprint?: string } } }) : {};
        fingerprint = outputs.backup?.server?.fingerprint ?? undefined;
    } catch {
        fingerprint = undefined;
    }
    if (!fingerprint) {
        return fail(
            check,
            `the ${privateStack} stack has no PBS fingerprint yet (output backup.server.fingerprint${r.code !== 0 ? `: ${r.stderr.trim()}` : ""}); the ${privateStack} stack goes first: \`pulumi up -s ${privateStack}\`, then ${fix}`,
        );
    }
    if (fingerprint.toLowerCase() !== publicFingerprint.toLowerCase()) {
        return fail(
            check,
            `the ${publicStack} stack's backup.pbs.fingerprint (${publicFingerprint}) is not the ${privateStack} PBS's (${fingerprint}); ${fix}`,
        );
    }
    return ok(check, `the ${publicStack} stack pins the ${privateStack} PBS's fingerprint`);
}
