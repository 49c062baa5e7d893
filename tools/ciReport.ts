// What the deploy and drift workflows write for people and for Prometheus: the throughput gate's figures as a
// job-summary table (from `pulumi stack output --json`), and the nightly drift check's verdict (from a
// refreshing `pulumi preview --json`): the drifted resources by name, and the metric
// aidualstack_drift_resources{stack} that the monitoring container alerts on (StackDrifted).

import * as fs from "fs";
import * as path from "path";
import { parseCli, runMain, UsageError } from "./cli";

const USAGE = `Usage: npm run ci-report -- gate <stack> <outputs.json>
       npm run ci-report -- drift <stack> <preview.json> --metrics-dir <dir> [--summary <file>]

gate   prints the throughput gate's figures of each model (model, GPU, measured and required tokens/s) as
       a Markdown table, from \`pulumi stack output --stack <stack> --json\`.
drift  reads \`pulumi preview --stack <stack> --refresh --expect-no-changes --json\`, names each resource
       the refreshed state says drifted (an update of only the credentials the run was given, a provider's
       apiToken/ssh or a command's connection, is not drift), writes <dir>/<stack>.prom with
       aidualstack_drift_resources{stack="<stack>"} (the count; 0 when clean), and appends the list to
       --summary (the job summary) when given.

Exit status: 0 done (gate), no drift (drift); 1 drift, or no readable input; 2 bad usage.`;

/** One model's figures as the stack outputs carry them (stacks/outputs.ts, VmOutput.throughput). */
interface Figures {
    model?: string;
    gpu?: string;
    minTokensPerSecond?: number;
    tokensPerSecond?: number;
}

/** The gate's table: one row per model of every VM, with whether it passed. */
export function gateSummary(stack: string, outputs: { vms?: Record<string, { throughput?: Figures[] }> }): string {
    const rows = Object.entries(outputs.vms ?? {}).flatMap(([vm, out]) =>
        (out.throughput ?? []).map((f) => {
            const measured = typeof f.tokensPerSecond === "number" ? f.tokensPerSecond.toFixed(1) : "not measured";
            const required = f.minTokensPerSecond ?? 0;
            const passed = typeof f.tokensPerSecond === "number" && f.tokensPerSecond >= required;
            return `| ${vm} | ${f.model ?? "?"} | ${f.gpu ?? "?"} | ${measured} | ${required} | ${passed ? "passed" : "FAILED"} |`;
        }),
    );
    const head = [`### Throughput gate: ${stack}`, ""];
    if (rows.length === 0) return [...head, "No model is gated in this stack."].join("\n") + "\n";
    return (
        [
            ...head,
            "| VM | model | GPU | measured tokens/s | required tokens/s | gate |",
            "| --- | --- | --- | --- | --- | --- |",
            ...rows,
        ].join("\n") + "\n"
    );
}

/** A step of `pulumi preview --json`. */
interface Step {
    op?: string;
    urn?: string;
    diffReasons?: string[] | null;
    detailedDiff?: Record<string, unknown> | null;
}

/**
 * Inputs that hold the credentials a run was given, by resource type: the drift check runs with the read-only
 * token and key where the deploy recorded its own, so an update of these alone is the swap, not drift. A changed
 * node address would also hide here, but it comes only with a change of the program, which the deploy applies.
 */
const CREDENTIAL_INPUTS: Readonly<Record<string, readonly string[]>> = {
    "pulumi:providers:proxmoxve": ["apiToken", "ssh"],
    "command:remote:Command": ["connection"],
};

/** The top-level inputs a step changes: detailedDiff's paths cut at the first "." or "[", else diffReasons. */
function changedInputs(s: Step): string[] {
    const paths = Object.keys(s.detailedDiff ?? {});
    const names = (paths.length > 0 ? paths : (s.diffReasons ?? [])).map((k) => k.split(/[.[]/)[0] as string);
    return [...new Set(names.filter((k) => k !== "__meta"))];
}

/** Whether an update changes nothing but the credentials of its type (CREDENTIAL_INPUTS). */
function credentialSwapOnly(s: Step, type: string): boolean {
    const allowed = CREDENTIAL_INPUTS[type];
    const changed = changedInputs(s);
    return (
        s.op === "update" && allowed !== undefined && changed.length > 0 && changed.every((k) => allowed.includes(k))
    );
}

/** Steps that change nothing: everything else is drift in a refreshing preview of what was deployed. */
const UNCHANGED = new Set(["same", "read", "refresh"]);

export interface Drifted {
    name: string;
    type: string;
    op: string;
    properties: string[];
}

/** The drifted resources of a refreshing preview, one per URN. */
export function driftedResources(preview: { steps?: Step[] }): Drifted[] {
    const seen = new Map<string, Drifted>();
    for (const s of preview.steps ?? []) {
        if (!s.urn || UNCHANGED.has(s.op ?? "same") || seen.has(s.urn)) continue;
        const parts = s.urn.split("::");
        const type = (parts[parts.length - 2] ?? "").split("$").pop() ?? "";
        if (credentialSwapOnly(s, type)) continue;
        seen.set(s.urn, {
            name: parts[parts.length - 1] ?? s.urn,
            type,
            op: s.op ?? "",
            properties: changedInputs(s),
        });
    }
    return [...seen.values()];
}

/** The textfile node-exporter reads: the count of drifted resources of one stack. */
export function driftMetric(stack: string, count: number): string {
    return [
        "# HELP aidualstack_drift_resources Resources whose refreshed state differs from the program (nightly drift check).",
        "# TYPE aidualstack_drift_resources gauge",
        `aidualstack_drift_resources{stack="${stack}"} ${count}`,
        "",
    ].join("\n");
}

const PAST: Record<string, string> = {
    create: "created",
    update: "updated",
    delete: "deleted",
    replace: "replaced",
    "create-replacement": "replaced",
    "delete-replaced": "replaced",
};

export function describeDrift(stack: string, d: Drifted): string {
    const props = d.properties.length > 0 ? ` (${d.properties.join(", ")})` : "";
    return `DRIFT in ${stack}: ${d.type} ${d.name} would be ${PAST[d.op] ?? d.op}${props}`;
}

interface Options {
    kind: "gate" | "drift";
    stack: string;
    input: string;
    metricsDir?: string;
    summary?: string;
}

export function parseArgs(argv: readonly string[]): Options | "help" {
    const bare: string[] = [];
    let metricsDir: string | undefined;
    let summary: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "-h" || arg === "--help") return "help";
        if (arg === "--metrics-dir" || arg === "--summary") {
            const value = argv[++i];
            if (value === undefined) throw new UsageError(`${arg} needs a value`);
            if (arg === "--summary") summary = value;
            else metricsDir = value;
        } else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
        else bare.push(arg);
    }
    const [kind, stack, input, ...rest] = bare;
    if (kind !== "gate" && kind !== "drift") throw new UsageError('first name what to report: "gate" or "drift"');
    if (!stack || !/^[a-z][a-z0-9-]*$/.test(stack)) throw new UsageError("name the stack, such as private");
    if (!input || rest.length > 0) throw new UsageError("name one JSON file");
    if (kind === "drift" && metricsDir === undefined) throw new UsageError("drift needs --metrics-dir");
    return {
        kind,
        stack,
        input,
        ...(metricsDir !== undefined ? { metricsDir } : {}),
        ...(summary !== undefined ? { summary } : {}),
    };
}

function readJson(file: string): unknown {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
    } catch (err) {
        return `${file}: ${(err as Error).message}`;
    }
}

/** Written whole, then renamed: node-exporter never reads half a file. */
function writeAtomic(file: string, text: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o644 });
    fs.renameSync(tmp, file);
}

export function main(argv: readonly string[]): Promise<number> {
    const opts = parseCli("ci-report", USAGE, () => parseArgs(argv));
    if (typeof opts === "number") return Promise.resolve(opts);
    const doc = readJson(opts.input);
    if (typeof doc === "string" || doc === null || typeof doc !== "object") {
        console.error(`ci-report: ${typeof doc === "string" ? doc : `${opts.input} holds no JSON object`}`);
        return Promise.resolve(1);
    }
    if (opts.kind === "gate") {
        process.stdout.write(gateSummary(opts.stack, doc));
        return Promise.resolve(0);
    }
    if (!Array.isArray((doc as { steps?: unknown }).steps)) {
        console.error(`ci-report: ${opts.input} holds no preview (the refreshing preview failed before it planned)`);
        return Promise.resolve(1);
    }
    const drifted = driftedResources(doc);
    writeAtomic(path.join(opts.metricsDir as string, `${opts.stack}.prom`), driftMetric(opts.stack, drifted.length));
    const lines = drifted.map((d) => describeDrift(opts.stack, d));
    for (const l of lines) console.log(l);
    if (opts.summary) {
        const body = lines.length > 0 ? lines.map((l) => `- ${l}`).join("\n") : "No drift.";
        fs.appendFileSync(opts.summary, `### Drift: ${opts.stack}\n\n${body}\n`);
    }
    if (drifted.length === 0) console.log(`no drift in ${opts.stack}`);
    return Promise.resolve(drifted.length > 0 ? 1 : 0);
}

if (require.main === module) runMain(main);
