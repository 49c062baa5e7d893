// The GPU bench's measuring part, run by bench/gpu/run.sh (compiled to plain JavaScript and run by
// the Node binary staged beside it, since the GPU machine has no Node): writes random-weights F16
// models, starts Ollama, and runs the project's own ModelThroughput create path on each, with a
// threshold the card must pass and ones it must fail; then writes the JSON report and checks it.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Ollama } from "ollama";
import { GATE_DEFAULTS } from "../../config/schema";
import type { GpuUnderTest } from "../../providers/ollama/measure";
import { ModelThroughputInputs, modelThroughputProvider, ModelThroughputState } from "../../providers/ollama/provider";
import { OllamaServer, startOllama } from "../../testing/ollamaServer";
import { tinyModelfile } from "../../testing/tinyModel";
import { tensorInfos, writeF16Model } from "./f16Model";
import { BenchReport, checkReport, GateOutcome, ModelReport, summaryTable } from "./report";
import { runBench } from "../cli";

const USAGE = `Usage: node bench.js --ollama BIN --out DIR [options]   (run by bench/gpu/run.sh)

Writes random-weights F16 llama models, starts Ollama (BIN) on 127.0.0.1, and runs the
ModelThroughput create path on each model: with a threshold it passes and requireGpu (off with
--cpu), then with thresholds it must fail. Writes DIR/gpu-bench-report.json and DIR/ollama.log;
exits 1 when a check fails (see bench/gpu/report.ts).

  --cpu              the CPU dry run: no GPU, requireGpu off, and a CPU fallback run that must fail
  --models WxL,...   model shapes, width x layers (default 4096x8,4096x32; --cpu: 128x2)
  --tokens N         tokens per generation (default 256; --cpu: 32)
  --runs N           measured generations per gate run (default 3; --cpu: 2)
  --bandwidth GB/s   the card's memory bandwidth (default: from the card's name; --cpu: 100, nominal)
  --pass-tps N       the passing threshold in tokens/s (default 50; --cpu: 0.5)
  --pass-eff F       the passing share of the roofline (default 0.25; --cpu: 0.000001, as a CPU's
                     roofline means little for a model that fits in its caches)
  --build-seconds N  the CUDA build's time, for the report
  --started-at S     when run.sh started (epoch seconds), for the wall time
  --limit-seconds N  the wall time a GPU run must stay under (default 480)
  --help             this text`;

interface Options {
    ollama: string;
    out: string;
    cpu: boolean;
    models: { width: number; layers: number }[];
    tokens: number;
    runs: number;
    bandwidth?: number;
    passTps: number;
    passEff: number;
    buildSeconds: number;
    startedAt: number;
    limitSeconds: number;
}

const VALUE_FLAGS = ["--ollama", "--out", "--models", "--tokens", "--runs", "--bandwidth", "--pass-tps", "--pass-eff"];
const MORE_FLAGS = ["--build-seconds", "--started-at", "--limit-seconds"];

export function parseArgs(argv: string[]): Options | "help" {
    if (argv.includes("--help") || argv.includes("-h")) return "help";
    const cpu = argv.includes("--cpu");
    const v: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i] as string;
        if (flag === "--cpu") continue;
        if (![...VALUE_FLAGS, ...MORE_FLAGS].includes(flag) || argv[i + 1] === undefined)
            throw new Error(`unknown option or missing value: ${flag}; see --help`);
        v[flag] = argv[++i] as string;
    }
    const num = (flag: string, dflt: number) => {
        const n = Number(v[flag] ?? dflt);
        if (!(n >= 0)) throw new Error(`${flag} needs a number, got ${v[flag]}`);
        return n;
    };
    if (!v["--ollama"] || !v["--out"]) throw new Error("--ollama and --out are required; see --help");
    const models = (v["--models"] ?? (cpu ? "128x2" : "4096x8,4096x32")).split(",").map((s) => {
        const m = /^(\d+)x(\d+)$/.exec(s.trim());
        if (!m) throw new Error(`--models takes WIDTHxLAYERS,..., got ${s}`);
        return { width: Number(m[1]), layers: Number(m[2]) };
    });
    return {
        ollama: v["--ollama"],
        out: v["--out"],
        cpu,
        models,
        tokens: num("--tokens", cpu ? 32 : 256),
        runs: num("--runs", cpu ? 2 : 3),
        ...(v["--bandwidth"] !== undefined || cpu ? { bandwidth: num("--bandwidth", 100) } : {}),
        passTps: num("--pass-tps", cpu ? 0.5 : 50),
        passEff: num("--pass-eff", cpu ? 1e-6 : 0.25),
        buildSeconds: num("--build-seconds", 0),
        startedAt: num("--started-at", Date.now() / 1000),
        limitSeconds: num("--limit-seconds", 480),
    };
}

/** Memory bandwidth (GB/s) of the cards this bench meets, by the name nvidia-smi prints. */
const BANDWIDTH: [RegExp, number][] = [
    [/H200/, 4800],
    [/H100 NVL/, 3900],
    [/H100 PCIe/, 2000],
    [/H100/, 3350],
    [/RTX 5090/, 1792],
    [/RTX 3060/, 360],
];

function gpuUnderTest(o: Options): BenchReport["gpu"] {
    if (o.cpu) {
        const cpuModel = os.cpus()[0]?.model ?? "unknown CPU";
        return { name: "cpu", model: `${cpuModel} (CPU dry run)`, vramGiB: 0, memoryBandwidthGBs: o.bandwidth ?? 100 };
    }
    const query = "name,memory.total,driver_version,compute_cap";
    const line = execFileSync("nvidia-smi", [`--query-gpu=${query}`, "--format=csv,noheader,nounits"], {
        encoding: "utf8",
    }).split("\n")[0] as string;
    const [model = "", mib = "0", driver = "", computeCap = ""] = line.split(",").map((s) => s.trim());
    const bandwidth = o.bandwidth ?? BANDWIDTH.find(([re]) => re.test(model))?.[1];
    if (bandwidth === undefined) throw new Error(`no known memory bandwidth for ${model}: pass --bandwidth GB/s`);
    const name =
        model
            .replace(/^NVIDIA\s+/, "")
            .split(/\s+/)[0]
            ?.toLowerCase() ?? "gpu";
    return { name, model, vramGiB: Math.round(Number(mib) / 1024), memoryBandwidthGBs: bandwidth, driver, computeCap };
}

const provider = modelThroughputProvider as Required<typeof modelThroughputProvider>;

/** One run of the create path; a failed gate is an outcome here, not an error. */
async function gateRun(
    base: ModelThroughputInputs,
    expect: GateOutcome["expect"],
    over: Partial<ModelThroughputInputs>,
): Promise<GateOutcome> {
    const inputs = { ...base, ...over };
    const asked = {
        expect,
        minTokensPerSecond: inputs.minTokensPerSecond,
        ...(inputs.minEfficiency !== undefined ? { minEfficiency: inputs.minEfficiency } : {}),
        requireGpu: inputs.requireGpu,
    };
    try {
        const outs = (await provider.create(inputs)).outs as ModelThroughputState;
        const { tokensPerSecond, slowestTokensPerSecond, runsTokensPerSecond, ceilingTokensPerSecond } = outs;
        const { efficiencyPercent, residency, modelBytes, size, sizeVram, loadMs, wallMs } = outs;
        const figures = { tokensPerSecond, slowestTokensPerSecond, runsTokensPerSecond, ceilingTokensPerSecond };
        return {
            ...asked,
            passed: outs.passed,
            message: outs.message,
            figures: { ...figures, efficiencyPercent, residency, modelBytes, size, sizeVram, loadMs, wallMs },
        };
    } catch (err) {
        return { ...asked, passed: false, message: err instanceof Error ? err.message : String(err) };
    }
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** Writes the GGUF, `ollama create`s it, and removes the file (the model store holds a copy). */
async function createModel(server: OllamaServer, work: string, name: string, shape: Options["models"][0]) {
    const gguf = path.join(work, `${name}.gguf`);
    let t = performance.now();
    const fileBytes = writeF16Model(gguf, shape);
    const writeSeconds = seconds(t);
    fs.writeFileSync(`${gguf}.Modelfile`, tinyModelfile(gguf));
    t = performance.now();
    await server.cli(["create", name, "-f", `${gguf}.Modelfile`]);
    const createSeconds = seconds(t);
    fs.rmSync(gguf);
    const gb = (fileBytes / 1e9).toFixed(2);
    console.log(`${name}: wrote ${gb} GB in ${writeSeconds.toFixed(1)} s, created in ${createSeconds.toFixed(1)} s`);
    return { fileBytes, writeSeconds, createSeconds };
}

async function benchModel(
    server: OllamaServer,
    o: Options,
    gpu: GpuUnderTest,
    work: string,
    shape: Options["models"][0],
): Promise<ModelReport> {
    const name = `bench-${shape.width}x${shape.layers}`;
    const { fileBytes, writeSeconds, createSeconds } = await createModel(server, work, name, shape);
    const base: ModelThroughputInputs = {
        // The schema's defaults for every setting this bench does not choose.
        ...GATE_DEFAULTS,
        endpoint: server.endpoint,
        model: name,
        gpu,
        minTokensPerSecond: o.passTps,
        minEfficiency: o.passEff,
        numPredict: o.tokens,
        runs: o.runs,
        requireGpu: !o.cpu,
        timeoutSeconds: 300,
        stallSeconds: 60,
        attempts: 2,
        backoffMs: 200,
        removeOnDelete: false,
    };
    const gates = [await gateRun(base, "pass", {})];
    const ceiling = gates[0]?.figures?.ceilingTokensPerSecond ?? (gpu.memoryBandwidthGBs * 1e9) / fileBytes;
    // The failing runs need one measured run each: their verdict does not depend on the median.
    const fail = { ...base, runs: 1 };
    gates.push(await gateRun(fail, "too-slow", { minTokensPerSecond: Math.ceil(2 * ceiling) }));
    gates.push(await gateRun(fail, "below-roofline", { minEfficiency: 1 }));
    if (o.cpu) gates.push(await gateRun(fail, "cpu-fallback", { requireGpu: true }));
    for (const g of gates) console.log(`${name} [${g.expect}] ${g.passed ? "passed" : "failed"}: ${g.message}`);

    const api = new Ollama({ host: server.endpoint });
    const once = await api.generate({
        model: name,
        prompt: GATE_DEFAULTS.prompt,
        stream: false,
        options: { temperature: 0, seed: GATE_DEFAULTS.seed, num_predict: o.tokens },
    });
    await api.generate({ model: name, prompt: "", keep_alive: 0 }); // unload before the next model
    const ff = tensorInfos(shape).find((x) => x.name === "blk.0.ffn_up.weight")?.dims[1] ?? 0;
    const report: ModelReport = {
        name,
        ...shape,
        ff,
        fileBytes,
        writeSeconds,
        createSeconds,
        evalCount: once.eval_count,
        gates,
    };
    return report;
}

/** Ollama's own word that it found the card (its "inference compute" lines), before any big model is written. */
async function expectCuda(server: OllamaServer): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!/msg="inference compute"/.test(server.log()) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
    }
    const found = server.log().match(/msg="inference compute".*/g) ?? [];
    if (!found.some((line) => /library=cuda/.test(line))) {
        throw new Error(
            `Ollama found no CUDA GPU (see ollama.log): ${found.join(" / ") || "no inference compute line"}`,
        );
    }
}

export async function main(argv: string[]): Promise<number> {
    const o = parseArgs(argv);
    if (o === "help") {
        console.log(USAGE);
        return 0;
    }
    fs.mkdirSync(o.out, { recursive: true });
    const gpu = gpuUnderTest(o);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-bench-"));
    const env: Record<string, string> = { OLLAMA_MAX_LOADED_MODELS: "1", OLLAMA_NUM_PARALLEL: "1" };
    if (o.cpu) env["CUDA_VISIBLE_DEVICES"] = "";
    const server = await startOllama(o.ollama, env);
    const report: BenchReport = {
        kind: "ai-dualstack gpu bench",
        mode: o.cpu ? "cpu" : "gpu",
        startedAt: new Date(o.startedAt * 1000).toISOString(),
        gpu,
        ollamaVersion: (await new Ollama({ host: server.endpoint }).version()).version,
        numPredict: o.tokens,
        runs: o.runs,
        buildSeconds: o.buildSeconds,
        wallSeconds: 0,
        limitSeconds: o.limitSeconds,
        models: [],
        problems: [],
    };
    try {
        if (!o.cpu) await expectCuda(server);
        for (const shape of o.models) {
            const m = await benchModel(server, o, gpu, work, shape);
            report.models.push(m);
            // A model that did not reach VRAM would make the larger ones crawl on the CPU past the limit.
            if (!o.cpu && m.gates[0]?.figures?.residency !== "gpu") break;
        }
    } catch (err) {
        report.problems.push(`the bench stopped: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
        fs.writeFileSync(path.join(o.out, "ollama.log"), server.log());
        await server.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
    report.wallSeconds = Date.now() / 1000 - o.startedAt;
    report.problems.push(...checkReport(report));
    fs.writeFileSync(path.join(o.out, "gpu-bench-report.json"), JSON.stringify(report, null, 2) + "\n");
    console.log(
        `\n${gpu.model}, ${gpu.memoryBandwidthGBs} GB/s, Ollama ${report.ollamaVersion}:\n${summaryTable(report)}`,
    );
    console.log(report.problems.length === 0 ? "all checks passed" : `PROBLEMS:\n- ${report.problems.join("\n- ")}`);
    return report.problems.length === 0 ? 0 : 1;
}

if (require.main === module) runBench(main, 2);
