// npm run restore-drill -- --stack <s> --guest <name> [--dry-run]: restores the latest backup of a
// guest into a scratch id on a bridge with no uplink, waits for it, runs the guest's own check,
// reports pass or fail with timings, and removes the scratch guest whatever happened.

import { execFile } from "child_process";
import * as fs from "fs";
import { ConfigError, decodeValue, parseStackConfig } from "../config/load";
import { resolveStack } from "../config/resolve";
import { POLICIES } from "../stacks";
import { StackFileError, readStackConfig } from "../testing/stackFiles";
import { UsageError, parseCli, runMain } from "./cli";
import {
    DrillStep,
    DrillTarget,
    checkStep,
    cleanupSteps,
    drillTarget,
    guestExecOk,
    latestBackup,
    listStep,
    prepareSteps,
    restoreSteps,
} from "./restoreDrillSteps";

const USAGE = `Usage: npm run restore-drill -- --stack <private|public> --guest <name> [--scratch-vmid N]
                             [--metrics-file FILE] [--dry-run]

Restores the latest backup of a guest (from its environment's PBS storage) into a scratch id on a
bridge with no uplink, waits for the container or the VM's guest agent, runs the guest's own check
(PostgreSQL: a query on aidualstack.backup_runs), prints pass or fail with each step's time, and
removes the scratch guest and the bridge whatever happened. Every command runs on the guest's node
over root SSH (nodes.<node>.address, sshUser; your ssh keys and ~/.ssh/config); API calls go
through pvesh. --dry-run prints every call and command without connecting anywhere.
--scratch-vmid: default the last id of the environment's range (environments.<env>.vmids.last).
--metrics-file: also write the result as node-exporter textfile metrics (a .prom file in the
textfile directory of the machine that runs the drill), for a monthly run from cron.

Exit status: 0 the drill passed; 1 it failed, or the config was rejected; 2 bad usage.`;

export interface DrillOptions {
    stack: string;
    guest: string;
    dryRun: boolean;
    scratchVmid?: number;
    metricsFile?: string;
}

export function parseArgs(argv: readonly string[]): DrillOptions | "help" {
    const opts: Partial<DrillOptions> = { dryRun: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("-")) throw new UsageError(`${arg} needs a value`);
            return v;
        };
        if (arg === "-h" || arg === "--help") return "help";
        else if (arg === "--dry-run") opts.dryRun = true;
        else if (arg === "--stack") opts.stack = value();
        else if (arg === "--guest") opts.guest = value();
        else if (arg === "--metrics-file") opts.metricsFile = value();
        else if (arg === "--scratch-vmid") {
            const n = Number(value());
            if (!Number.isInteger(n) || n < 100) throw new UsageError("--scratch-vmid takes a guest id of 100 or more");
            opts.scratchVmid = n;
        } else throw new UsageError(`unknown argument ${arg}`);
    }
    if (!opts.stack) throw new UsageError("name the stack: --stack private or --stack public");
    if (!opts.guest) throw new UsageError("name the guest: --guest <vms or containers key>");
    return opts as DrillOptions;
}

/** The drill's target from the committed stack files (no secret is read). */
export function loadTarget(opts: DrillOptions): DrillTarget | string {
    const files = readStackConfig(opts.stack);
    const values: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(files.config)) {
        const bare = key.replace(/^ai-dualstack:/, "");
        values[bare] = decodeValue(bare, text);
    }
    const secretKeys = new Set(files.secretKeys.map((k) => k.replace(/^ai-dualstack:/, "")));
    const result = parseStackConfig({ stack: opts.stack, values, secretKeys }, POLICIES);
    if (!result.ok) throw new ConfigError(opts.stack, result.issues);
    const { config, peers } = result;
    const model = resolveStack(config, opts.stack, POLICIES[config.environment], peers);
    // By default the last id of the environment's range: inside its own ids, and the last one guests are given.
    return drillTarget(model, opts.guest, opts.scratchVmid ?? config.environments[config.environment].vmids.last);
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}
/** Runs one command on the node. */
export type Runner = (command: string) => Promise<RunResult>;

/** A runner that only prints: every call succeeds with an empty answer. */
export function dryRunner(t: DrillTarget, log: (line: string) => void): Runner {
    return (command) => {
        log(`  $ ssh -p ${t.sshPort} ${t.sshUser}@${t.nodeAddress} ${command}`);
        return Promise.resolve({ code: 0, stdout: "", stderr: "" });
    };
}

/** Root SSH to the node, non-interactive. */
export function sshRunner(t: DrillTarget): Runner {
    return (command) =>
        new Promise((resolve) => {
            execFile(
                "ssh",
                [
                    "-o",
                    "BatchMode=yes",
                    "-o",
                    "ConnectTimeout=10",
                    "-p",
                    String(t.sshPort),
                    `${t.sshUser}@${t.nodeAddress}`,
                    command,
                ],
                { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60 * 1000 },
                (err, stdout, stderr) => {
                    const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
                    resolve({ code, stdout, stderr });
                },
            );
        });
}

export interface StepTime {
    step: string;
    seconds: number;
    ok: boolean;
    detail?: string;
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** Runs a step (polling it when it polls); false when it failed or timed out. */
async function runStep(step: DrillStep, run: Runner, dry: boolean): Promise<RunResult> {
    const deadline = Date.now() + (step.poll?.timeoutS ?? 0) * 1000;
    for (;;) {
        const r = await run(step.command);
        const ok = r.code === 0 && (dry || !step.guestExec || guestExecOk(r.stdout));
        if (ok || !step.poll || dry || Date.now() > deadline) return ok ? r : { ...r, code: r.code || 1 };
        await sleep(step.poll.intervalS);
    }
}

/** The whole drill; the clean-up steps run whatever happened. Returns pass or fail and the timings. */
export async function drill(
    t: DrillTarget,
    run: Runner,
    dry: boolean,
    log: (line: string) => void,
): Promise<{ passed: boolean; times: StepTime[] }> {
    const times: StepTime[] = [];
    const timed = async (step: DrillStep): Promise<RunResult> => {
        log(`${step.api ? "[api] " : ""}${step.name}${step.poll ? ` (repeated up to ${step.poll.timeoutS} s)` : ""}`);
        const start = Date.now();
        const r = await runStep(step, run, dry);
        const detail = (r.code === 0 ? r.stdout : r.stderr || r.stdout).trim().split("\n").slice(-3).join(" / ");
        times.push({
            step: step.name,
            seconds: (Date.now() - start) / 1000,
            ok: r.code === 0,
            ...(detail ? { detail } : {}),
        });
        return r;
    };
    let passed = false;
    try {
        const listed = await timed(listStep(t));
        if (listed.code !== 0) return { passed, times };
        const volid = dry ? `<latest backup of ${t.kind}/${t.vmid} on ${t.storageId}>` : latestBackup(listed.stdout);
        if (!volid) {
            times.push({
                step: "find the latest backup",
                seconds: 0,
                ok: false,
                detail: `no backup of ${t.vmid} on ${t.storageId}`,
            });
            return { passed, times };
        }
        for (const step of [...prepareSteps(t), ...restoreSteps(t, volid), checkStep(t)]) {
            if ((await timed(step)).code !== 0) return { passed, times };
        }
        passed = true;
        return { passed, times };
    } finally {
        for (const step of cleanupSteps(t)) await timed(step);
    }
}

export function report(t: DrillTarget, result: { passed: boolean; times: StepTime[] }, dry: boolean): string {
    const total = result.times.reduce((s, x) => s + x.seconds, 0);
    // A dry run ran no step: it lists them, with no "ok" and no time that it did not measure.
    const lines = result.times.map((x) =>
        dry
            ? `  not run     ${x.step}`
            : `  ${x.ok ? "ok  " : "FAIL"} ${x.seconds.toFixed(1).padStart(7)} s  ${x.step}${x.detail ? `: ${x.detail}` : ""}`,
    );
    const verdict = dry ? "DRY RUN (nothing ran)" : `${result.passed ? "PASS" : "FAIL"} in ${total.toFixed(1)} s`;
    return [
        `restore drill ${t.stack}/${t.guest} (${t.kind} ${t.vmid} → scratch ${t.scratchVmid} on ${t.bridge}): ${verdict}`,
        ...lines,
    ].join("\n");
}

/** The drill's result as textfile metrics, labelled {stack, guest}. */
export function drillMetrics(t: DrillTarget, passed: boolean, seconds: number, now: number): string {
    const labels = `{stack="${t.stack}",guest="${t.guest}"}`;
    const metric = (name: string, help: string, value: number | string) => [
        `# HELP ${name} ${help}`,
        `# TYPE ${name} gauge`,
        `${name}${labels} ${value}`,
    ];
    return [
        ...metric("aidualstack_restore_drill_last_run_timestamp_seconds", "When the restore drill last ran.", now),
        ...metric("aidualstack_restore_drill_last_run_success", "Whether it passed (1) or not (0).", passed ? 1 : 0),
        ...metric(
            "aidualstack_restore_drill_duration_seconds",
            "How long it took, clean-up included.",
            seconds.toFixed(1),
        ),
        "",
    ].join("\n");
}

export async function main(argv: readonly string[], log: (line: string) => void = console.log): Promise<number> {
    const opts = parseCli("restore-drill", USAGE, () => parseArgs(argv));
    if (typeof opts === "number") return opts;
    let target: DrillTarget | string;
    try {
        target = loadTarget(opts);
    } catch (err) {
        if (!(err instanceof ConfigError || err instanceof StackFileError)) throw err;
        console.error(err.message);
        return 1;
    }
    if (typeof target === "string") {
        console.error(`restore-drill: ${target}`);
        return 1;
    }
    const run = opts.dryRun ? dryRunner(target, log) : sshRunner(target);
    const result = await drill(target, run, opts.dryRun, log);
    log(report(target, result, opts.dryRun));
    if (opts.metricsFile && !opts.dryRun) {
        const seconds = result.times.reduce((sum, x) => sum + x.seconds, 0);
        fs.writeFileSync(
            `${opts.metricsFile}.tmp`,
            drillMetrics(target, result.passed, seconds, Math.round(Date.now() / 1000)),
        );
        fs.renameSync(`${opts.metricsFile}.tmp`, opts.metricsFile);
    }
    return opts.dryRun || result.passed ? 0 : 1;
}

if (require.main === module) runMain((argv) => main(argv));
