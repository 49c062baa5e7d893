// Throughput gate accuracy and overhead, against a real Ollama server: the gate's tokens/s beside
// the same generations timed by the server's own per-token timestamps, and beside the eval rate
// Ollama's CLI reports (`ollama run --verbose`) for the same model, prompt and sampling; and the
// gate's wall time beyond the time Ollama spent generating. Prints figures; asserts nothing.
// Targets: within 1% of Ollama's figure; overhead under 5%.

import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { GATE_DEFAULTS } from "../config/schema";
import { GateInput, runGate } from "../providers/ollama/runGate";
import { median } from "../providers/ollama/measure";
import { findOllama, OllamaServer, startOllama } from "../testing/ollamaServer";
import { runBench } from "./cli";

const USAGE = `Usage: npm run bench:gate [-- options]

Runs the throughput gate against a real Ollama and compares it with Ollama's own figures: the
same generations timed by the server's per-token timestamps, and \`ollama run --verbose\`.
By default it starts a local Ollama (.ci/ollama.sh builds one) on 127.0.0.1 with a tiny
random-weights model; point it at a real GPU VM with --endpoint and --model.

  --endpoint URL     an Ollama server to use instead of starting one
  --model NAME       the model to measure there (default: the tiny test model)
  --rounds N         gate runs, each followed by N CLI runs (default 5)
  --runs N           measured generations per gate run (default 3)
  --tokens N         tokens per generation (default 256)
  --width N          tiny model width, when starting a local server (default 256)
  --layers N         tiny model layers, when starting a local server (default 4)
  --help             this text

Targets: gate tokens/s within 1% of the server's timing; gate wall time at most 5% above
the time Ollama spends generating. It never fails on a figure.`;

interface Options {
    endpoint?: string;
    model?: string;
    rounds: number;
    runs: number;
    tokens: number;
    width: number;
    layers: number;
}

/** The options that take a whole number, and the option field each sets. */
const COUNTS = {
    "--rounds": "rounds",
    "--runs": "runs",
    "--tokens": "tokens",
    "--width": "width",
    "--layers": "layers",
} as const;

function parseArgs(argv: string[]): Options | "help" {
    const o: Options = { rounds: 5, runs: 3, tokens: 256, width: 256, layers: 4 };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i] as string;
        const value = argv[i + 1];
        if (flag === "--help" || flag === "-h") return "help";
        if (flag === "--endpoint" || flag === "--model") {
            o[flag === "--endpoint" ? "endpoint" : "model"] = value;
        } else if (flag in COUNTS) {
            const n = Number(value);
            if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a whole number, got ${value}`);
            o[COUNTS[flag as keyof typeof COUNTS]] = n;
        } else {
            throw new Error(`unknown option ${flag}; see --help`);
        }
        i++;
    }
    return o;
}

const pct = (a: number, b: number) => (100 * (a - b)) / b;
const f1 = (n: number) => n.toFixed(1);

/** Nanoseconds since the epoch from Ollama's RFC 3339 timestamps ("...T08:02:18.992681501Z"). */
export function timestampNs(rfc3339: string): number {
    const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
    if (!m) throw new Error(`not an RFC 3339 timestamp: ${rfc3339}`);
    const whole = Date.parse(`${m[1]}${m[3]}`);
    return whole * 1e6 + Number((m[2] ?? "0").padEnd(9, "0").slice(0, 9));
}

/** `ollama run --verbose` prints "eval rate: N tokens/s" on stderr: Ollama's own decode figure. */
export function parseEvalRate(stderr: string): number {
    const m = /^eval rate:\s+([\d.]+) tokens\/s/m.exec(stderr);
    if (!m) throw new Error(`no eval rate in the ollama CLI's output:\n${stderr}`);
    return Number(m[1]);
}

type Cli = (args: string[]) => Promise<{ stdout: string; stderr: string }>;

interface Round {
    gate: number;
    clock: number;
    cli: number;
    overhead: number;
}

/** One round: a gate run, timed also by the server's token clock, then the CLI's own eval rates. */
async function round(r: number, input: GateInput, variant: string, cli: Cli, runs: number): Promise<Round> {
    // The same generations timed by the server's clock: token chunks' created_at stamps.
    let stamps: string[] = [];
    const perRun: number[] = [];
    const result = await runGate(input, {
        allowPull: false,
        log: () => undefined,
        hooks: {
            onToken: (at) => stamps.push(at),
            onGeneration: (_g, warmup) => {
                const first = timestampNs(stamps[0] as string);
                const last = timestampNs(stamps[stamps.length - 1] as string);
                if (!warmup) perRun.push((stamps.length - 1) / ((last - first) / 1e9));
                stamps = [];
            },
        },
    });
    const clock = median(perRun);
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
        const { stderr } = await cli(["run", variant, "--verbose", input.prompt]);
        rates.push(parseEvalRate(stderr));
    }
    const cliRate = median(rates);
    const overhead = pct(result.wallMs, result.generationMs);
    console.log(
        [
            String(r).padStart(5),
            f1(result.tokensPerSecond).padStart(10),
            f1(clock).padStart(12),
            `${f1(pct(result.tokensPerSecond, clock))}%`.padStart(6),
            f1(cliRate).padStart(20),
            `${f1(pct(result.tokensPerSecond, cliRate))}%`.padStart(6),
            `${result.wallMs.toFixed(0)} ms`.padStart(11),
            `${result.generationMs.toFixed(0)} ms`.padStart(11),
            `${f1(overhead)}%`.padStart(9),
        ].join("  "),
    );
    return { gate: result.tokensPerSecond, clock, cli: cliRate, overhead };
}

function printSummary(rounds: readonly Round[]): void {
    const gate = median(rounds.map((r) => r.gate));
    const clock = median(rounds.map((r) => r.clock));
    const diff = pct(gate, clock);
    const own = median(rounds.map((r) => r.cli));
    const overhead = median(rounds.map((r) => r.overhead));
    console.log(
        `\nmedian: gate ${f1(gate)} tokens/s; the same generations by the server's token timestamps ${f1(clock)} tokens/s: ${f1(diff)}% (target within 1%: ${Math.abs(diff) <= 1 ? "met" : "NOT met"})`,
    );
    console.log(
        `median: \`ollama run --verbose\` eval rate ${f1(own)} tokens/s over separate runs: ${f1(pct(gate, own))}% from the gate`,
    );
    console.log(
        `median gate overhead beyond generating: ${f1(overhead)}% (target under 5%: ${overhead < 5 ? "met" : "NOT met"})`,
    );
    console.log(
        "note: the CLI's runs are separate generations (through /api/chat, its own process printing alongside), so run-to-run noise and client CPU load are part of that difference.",
    );
}

/** The CLI takes sampling settings only from a Modelfile: a variant of the model with the gate's. */
async function createVariant(cli: Cli, dir: string, model: string, variant: string, tokens: number) {
    const modelfile = path.join(dir, "Modelfile");
    const lines = [`FROM ${model}`, `PARAMETER num_predict ${tokens}`, "PARAMETER temperature 0"];
    fs.writeFileSync(modelfile, [...lines, `PARAMETER seed ${GATE_DEFAULTS.seed}`, ""].join("\n"));
    await cli(["create", variant, "-f", modelfile]);
}

async function main(argv: string[]): Promise<number> {
    const opts = parseArgs(argv);
    if (opts === "help") {
        console.log(USAGE);
        return 0;
    }
    const bin = findOllama();
    if (!bin) {
        console.error("no ollama binary: build one with `bash .ci/ollama.sh`, or set AIDS_OLLAMA_BIN");
        return 2;
    }
    const local = opts.endpoint ? undefined : await startOllama(bin);
    const endpoint: string = opts.endpoint ?? (local as OllamaServer).endpoint;
    const model = opts.model ?? "bench-tiny";
    const env = { ...process.env, OLLAMA_HOST: endpoint.replace(/^https?:\/\//, "") };
    const run = promisify(execFile);
    const cli: Cli = (args) => {
        const pending = run(bin, args, { env, maxBuffer: 16 * 2 ** 20 });
        // `ollama run` reads stdin when it is not a terminal: close it, or it waits forever.
        pending.child.stdin?.end();
        return pending;
    };
    const variant = `${model.replace(/:.*$/, "")}-aids-bench`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-bench-"));
    try {
        if (local) {
            console.log(`started Ollama ${bin} on ${endpoint}; tiny model ${opts.width} wide, ${opts.layers} layers`);
            await local.createTinyModel(model, { width: opts.width, layers: opts.layers });
        }
        const input: GateInput = {
            ...GATE_DEFAULTS,
            endpoint,
            model,
            gpu: { name: "bench", model: "whatever serves it", vramGiB: 0, memoryBandwidthGBs: 1 },
            minTokensPerSecond: 0.001,
            numPredict: opts.tokens,
            runs: opts.runs,
            requireGpu: false,
        };
        await createVariant(cli, dir, model, variant, opts.tokens);
        console.log(
            `\n${opts.rounds} rounds: a gate run (1 warm-up + ${opts.runs} x ${opts.tokens} tokens), then ${opts.runs} \`ollama run --verbose\` runs\n`,
        );
        console.log(
            "round  gate tok/s  server clock  diff    ollama run --verbose  diff    gate wall  generating  overhead",
        );
        const rounds: Round[] = [];
        for (let r = 1; r <= opts.rounds; r++) rounds.push(await round(r, input, variant, cli, opts.runs));
        printSummary(rounds);
        return 0;
    } finally {
        await cli(["rm", variant]).catch(() => undefined);
        fs.rmSync(dir, { recursive: true, force: true });
        await local?.stop();
    }
}

if (require.main === module) runBench(main, 1);
