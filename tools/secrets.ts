// Generates the secrets a stack's config names and stores each encrypted with the Pulumi CLI
// (`pulumi config set --secret`, the value on stdin, never in argv). It prints names, never values.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { NAMESPACE, readStackFile, stackSecretUses } from "../config/load";
import { SECRET_FORMATS } from "../config/secrets";
import { PROJECT_ROOT } from "../lib/paths";
import { UsageError, parseCli, runMain } from "./cli";
import { SecretStep, StackSecretsView, generateSecret, planSecrets, runnerTokenPage } from "./secretsPlan";

const USAGE = `Usage: npm run secrets -- <stack> [--rotate <name>]... [--project-dir DIR]

Generates every serviceSecrets value the stack's config names that is not set yet, and stores each
encrypted in Pulumi.<stack>.yaml with \`pulumi config set --secret\`: passwords (32 letters and
digits), API keys and tokens (64 hex digits), the WireGuard server's private key (its public half is
derived from it). The PBS password that two stacks share is copied from the other stack when it
holds one. It prints the name of each secret it set, never a value, and leaves values already set
alone.

The runner's GitHub token, which only GitHub issues, and the values that are yours (the
alert webhook URL, SMTP credentials, the off-site PBS password) are asked for on a terminal, with
where to get them; without a terminal it prints the command that sets each.

  --rotate <name>    replace that secret even though it is set (a shared one in both stacks)
  --project-dir DIR  the project (default: this repository)

It uses the pulumi CLI of $AIDS_PULUMI_BIN, else the one on PATH, with your backend login and
PULUMI_CONFIG_PASSPHRASE; the stack must exist (\`pulumi stack init <stack>\`).

Exit status: 0 every secret the stack uses is set; 1 some are still missing (listed) or the CLI
failed; 2 bad usage.`;

export interface SecretsOptions {
    stack: string;
    rotate: Set<string>;
    projectDir: string;
}

export function parseArgs(argv: readonly string[], defaultDir: string): SecretsOptions | "help" {
    const opts: SecretsOptions = { stack: "", rotate: new Set(), projectDir: defaultDir };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "-h" || arg === "--help") return "help";
        if (arg === "--rotate" || arg === "--project-dir") {
            const value = argv[++i];
            if (!value) throw new UsageError(`${arg} takes a value`);
            if (arg === "--rotate") opts.rotate.add(value);
            else opts.projectDir = path.resolve(value);
        } else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
        else if (opts.stack) throw new UsageError(`one stack at a time, not "${opts.stack}" and "${arg}"`);
        else opts.stack = arg;
    }
    if (!opts.stack) throw new UsageError("name a stack: private or public");
    return opts;
}

/** A failure with one line that says what to do. */
class SecretsError extends Error {}

/** A stack's view from its files: the secrets its config names and those it holds (names only). */
export function stackView(stack: string, projectDir: string): StackSecretsView {
    const file = readStackFile(stack, projectDir);
    if (!file.ok) throw new SecretsError(`Pulumi.${stack}.yaml ${file.issues[0]?.message ?? "cannot be read"}`);
    const parsed = stackSecretUses(file.raw);
    if (!parsed.ok) {
        const first = parsed.issues[0];
        throw new SecretsError(
            `Pulumi.${stack}.yaml does not parse (${first ? `${first.path}: ${first.message}` : "?"}); \`npm run plan -- ${stack}\` lists every finding`,
        );
    }
    if (file.raw.secretKeys.has("serviceSecrets")) {
        throw new SecretsError(
            `${NAMESPACE}:serviceSecrets is encrypted as one value in Pulumi.${stack}.yaml, so its names cannot be read; store each with \`pulumi config set --secret --path '${NAMESPACE}:serviceSecrets.<name>'\``,
        );
    }
    const held = file.raw.values["serviceSecrets"];
    const set = new Set(held !== null && typeof held === "object" ? Object.keys(held) : []);
    const repositories = new Map<string, string>();
    for (const c of Object.values(parsed.config.containers)) {
        if (c.runner) repositories.set(c.runner.tokenSecret, c.runner.repository);
    }
    return { stack, environment: parsed.config.environment, uses: parsed.uses, set, repositories };
}

/** The other stacks of the project (Pulumi.<name>.yaml) whose config parses. */
function peerViews(stack: string, projectDir: string): StackSecretsView[] {
    return fs
        .readdirSync(projectDir)
        .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined && s !== stack)
        .flatMap((s) => {
            try {
                return [stackView(s, projectDir)];
            } catch {
                return [];
            }
        });
}

export interface PulumiCli {
    set(stack: string, name: string, value: string): void;
    get(stack: string, name: string): string;
}

function pulumiBinary(): string {
    return process.env["AIDS_PULUMI_BIN"] || "pulumi";
}

/** The real CLI, run in the project; values travel on stdin and stdout only. */
export function realCli(projectDir: string): PulumiCli {
    const run = (args: string[], input?: string): string => {
        try {
            return execFileSync(pulumiBinary(), args, {
                cwd: projectDir,
                encoding: "utf8",
                stdio: "pipe",
                ...(input === undefined ? {} : { input }),
            });
        } catch (err) {
            const e = err as NodeJS.ErrnoException & { stderr?: string };
            if (e.code === "ENOENT") {
                throw new SecretsError(
                    `no Pulumi CLI (${pulumiBinary()}); install it (https://www.pulumi.com/docs/install/) or set AIDS_PULUMI_BIN`,
                );
            }
            const why = (e.stderr ?? "").trim().split("\n").pop() ?? "";
            const stack = args[args.indexOf("--stack") + 1] ?? "";
            if (/no stack named/i.test(why)) {
                throw new SecretsError(`the ${stack} stack is not in your backend yet: \`pulumi stack init ${stack}\``);
            }
            // The CLI's own message names no value: config set reads it from stdin.
            throw new SecretsError(`pulumi ${args.slice(0, 3).join(" ")} failed: ${why}`);
        }
    };
    const key = (name: string) => `${NAMESPACE}:serviceSecrets.${name}`;
    return {
        set: (stack, name, value) =>
            void run(["config", "set", "--secret", "--path", "--stack", stack, key(name)], value),
        get: (stack, name) => run(["config", "get", "--path", "--stack", stack, key(name)]).replace(/\n$/, ""),
    };
}

/** The command that sets one secret by hand, the value asked for by the CLI (never in argv). */
function setCommand(stack: string, name: string): string {
    return `pulumi config set --secret --path --stack ${stack} '${NAMESPACE}:serviceSecrets.${name}'`;
}

/** Where the user gets a value only they (or GitHub) can give. */
export function askHint(step: SecretStep): string {
    if (step.form === "runnerToken") {
        const repo = step.repository ?? "your repository";
        return `a fine-grained GitHub token for ${repo} alone, with the permission Administration: read and write (the runner mints its just-in-time registrations with it): create it at ${runnerTokenPage(repo)}`;
    }
    return "a value of your own (see its field in docs/config-reference.md)";
}

export type Ask = (question: string) => Promise<string>;

/** Asks on the terminal; the answer is not echoed. */
function terminalAsk(question: string): Promise<string> {
    return new Promise((resolve) => {
        const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
        const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
        let muted = false;
        out._writeToOutput = (s: string) => {
            if (!muted) out.output.write(s);
        };
        rl.question(question, (answer) => {
            rl.close();
            process.stdout.write("\n");
            resolve(answer.trim());
        });
        muted = true;
    });
}

export interface RunDeps {
    cli: PulumiCli;
    /** undefined without a terminal. */
    ask?: Ask;
    log: (line: string) => void;
}

/** Carries out the plan; returns the names still missing. */
export async function applySecrets(opts: SecretsOptions, deps: RunDeps): Promise<string[]> {
    const self = stackView(opts.stack, opts.projectDir);
    const peers = peerViews(opts.stack, opts.projectDir);
    const unknown = [...opts.rotate].filter((n) => !self.uses.some((u) => u.name === n));
    if (unknown.length > 0) {
        throw new SecretsError(`--rotate ${unknown.join(", ")}: the ${opts.stack} stack's config names no such secret`);
    }
    const missing: string[] = [];
    for (const step of planSecrets(self, peers, opts.rotate)) {
        if (step.action === "keep") continue;
        if (step.action === "copy" && step.shared) {
            deps.cli.set(opts.stack, step.name, deps.cli.get(step.shared.stack, step.shared.name));
            deps.log(`set ${step.name} (the same value as ${step.shared.name} in the ${step.shared.stack} stack)`);
        } else if (step.action === "generate") {
            const value = generateSecret(step.form as "password" | "token" | "wireguard");
            deps.cli.set(opts.stack, step.name, value);
            deps.log(`set ${step.name} (${step.form}, generated)`);
            if (step.shared) setShared(step, value, opts.stack, deps);
        } else {
            const value = deps.ask
                ? await deps.ask(`${step.name}: ${askHint(step)}\n  paste it here (not shown): `)
                : "";
            if (value === "") {
                missing.push(step.name);
                deps.log(`not set: ${step.name}, ${askHint(step)}; then \`${setCommand(opts.stack, step.name)}\``);
            } else {
                deps.cli.set(opts.stack, step.name, value);
                deps.log(`set ${step.name} (as given)`);
            }
        }
    }
    for (const [key, format] of Object.entries(SECRET_FORMATS)) {
        const file = readStackFile(opts.stack, opts.projectDir);
        const held = file.ok && (file.raw.secretKeys.has(key) || file.raw.values[key] !== undefined);
        if (format.required && !held) {
            missing.push(key);
            deps.log(
                `not set: ${key} (${format.shape}, yours to create); \`${format.example}\` on the ${opts.stack} stack`,
            );
        }
    }
    return missing;
}

/** A generated shared secret goes into the peer stack too, so both hold the same value. */
function setShared(step: SecretStep, value: string, stack: string, deps: RunDeps): void {
    const peer = step.shared as { stack: string; name: string };
    try {
        deps.cli.set(peer.stack, peer.name, value);
        deps.log(`set ${peer.name} in the ${peer.stack} stack (the same value as ${step.name})`);
    } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        deps.log(
            `the ${peer.stack} stack must hold the same ${peer.name}: \`npm run secrets -- ${peer.stack}\` copies it (${why})`,
        );
    }
}

export async function main(argv: readonly string[], deps?: Partial<RunDeps>): Promise<number> {
    const opts = parseCli("secrets", USAGE, () => parseArgs(argv, PROJECT_ROOT));
    if (typeof opts === "number") return opts;
    const log = deps?.log ?? ((line: string) => console.log(line));
    try {
        const missing = await applySecrets(opts, {
            cli: deps?.cli ?? realCli(opts.projectDir),
            log,
            ...(deps && "ask" in deps
                ? deps.ask
                    ? { ask: deps.ask }
                    : {}
                : process.stdin.isTTY
                  ? { ask: terminalAsk }
                  : {}),
        });
        if (missing.length > 0) {
            log(`${missing.length} still missing in the ${opts.stack} stack: ${missing.join(", ")}`);
            return 1;
        }
        log(`every secret the ${opts.stack} stack uses is set`);
        return 0;
    } catch (err) {
        if (!(err instanceof SecretsError)) throw err;
        console.error(`secrets: ${err.message}`);
        return 1;
    }
}

if (require.main === module) runMain(main);
