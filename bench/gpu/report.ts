// The GPU bench's report (bench/gpu/bench.ts writes it as JSON under $OUT): what each model's gate
// runs measured and decided, and the checks that make a run count. The same checks run on the CPU
// dry run in CI and on a GPU, where residency and the roofline must hold as well.

import type { GpuUnderTest } from "../../providers/ollama/measure";

/** One run of the ModelThroughput create path: what it required and what it decided. */
export interface GateOutcome {
    /** What this run is for: "pass" must pass; the others must fail with their cause. */
    expect: "pass" | "too-slow" | "below-roofline" | "cpu-fallback";
    minTokensPerSecond: number;
    minEfficiency?: number;
    requireGpu: boolean;
    passed: boolean;
    message: string;
    /** The create path's outputs, on a pass. */
    figures?: {
        tokensPerSecond: number;
        slowestTokensPerSecond: number;
        runsTokensPerSecond: number[];
        ceilingTokensPerSecond: number;
        efficiencyPercent: number;
        residency: string;
        modelBytes: number;
        size: number;
        sizeVram: number;
        loadMs: number;
        wallMs: number;
    };
}

export interface ModelReport {
    name: string;
    width: number;
    layers: number;
    ff: number;
    /** The GGUF written (bytes) and how long writing it and `ollama create` took. */
    fileBytes: number;
    writeSeconds: number;
    createSeconds: number;
    /** eval_count of one more generation of numPredict tokens: the model must not stop early. */
    evalCount: number;
    gates: GateOutcome[];
}

export interface BenchReport {
    kind: "ai-dualstack gpu bench";
    mode: "gpu" | "cpu";
    startedAt: string;
    gpu: GpuUnderTest & { driver?: string; computeCap?: string };
    ollamaVersion: string;
    numPredict: number;
    runs: number;
    /** Seconds for the CUDA backend build (0 on the CPU dry run), and the whole script so far. */
    buildSeconds: number;
    wallSeconds: number;
    limitSeconds: number;
    models: ModelReport[];
    problems: string[];
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b), 1);

const MUST_SAY: Record<Exclude<GateOutcome["expect"], "pass">, RegExp> = {
    "too-slow": /too slow, measured .* above what the card's memory bandwidth allows/,
    "below-roofline": /too slow, measured .*% of the card's ceiling/,
    "cpu-fallback": /CPU fallback, none of its .* is in VRAM/,
};

function checkFigures(r: BenchReport, m: ModelReport, g: GateOutcome): string[] {
    const f = g.figures;
    if (f === undefined) return [`${m.name}: the passing run has no figures`];
    const problems: string[] = [];
    const bad = (what: string) => problems.push(`${m.name}: ${what}`);
    if (!(f.tokensPerSecond > 0)) bad(`measured ${f.tokensPerSecond} tokens/s`);
    if (f.runsTokensPerSecond.length !== r.runs) bad(`${f.runsTokensPerSecond.length} runs, not ${r.runs}`);
    if (!close(f.ceilingTokensPerSecond, (r.gpu.memoryBandwidthGBs * 1e9) / f.modelBytes))
        bad(`ceiling ${f.ceilingTokensPerSecond} is not bandwidth / model bytes`);
    if (!close(f.efficiencyPercent, (100 * f.tokensPerSecond) / f.ceilingTokensPerSecond))
        bad(`efficiency ${f.efficiencyPercent}% is not tokens/s / ceiling`);
    if (f.modelBytes < m.fileBytes || f.modelBytes > m.fileBytes + 65536)
        bad(`Ollama lists ${f.modelBytes} bytes for a ${m.fileBytes}-byte GGUF`);
    if (r.mode === "gpu") {
        if (f.residency !== "gpu" || f.sizeVram !== f.size) bad(`not wholly in VRAM: ${f.sizeVram} of ${f.size}`);
        if (f.efficiencyPercent >= 100) bad(`${f.efficiencyPercent}% of the roofline is impossible`);
    } else if (f.residency !== "cpu" || f.sizeVram !== 0) {
        bad(`the CPU dry run reports ${f.sizeVram} bytes in VRAM`);
    }
    return problems;
}

/** Everything that makes the run not count; empty when it does. */
export function checkReport(r: BenchReport): string[] {
    const problems: string[] = [];
    if (r.models.length === 0) problems.push("no model was measured");
    if (r.mode === "gpu" && r.wallSeconds > r.limitSeconds)
        problems.push(`took ${r.wallSeconds.toFixed(0)} s, over the ${r.limitSeconds} s limit`);
    for (const m of r.models) {
        if (m.evalCount !== r.numPredict)
            problems.push(`${m.name}: generated ${m.evalCount} of ${r.numPredict} tokens`);
        const expected =
            r.mode === "gpu"
                ? ["pass", "too-slow", "below-roofline"]
                : ["pass", "too-slow", "below-roofline", "cpu-fallback"];
        const seen = m.gates.map((g) => g.expect);
        if (JSON.stringify(seen) !== JSON.stringify(expected))
            problems.push(`${m.name}: gate runs ${seen.join(",")}, expected ${expected.join(",")}`);
        for (const g of m.gates) {
            if (g.expect === "pass") {
                if (!g.passed) problems.push(`${m.name}: the passing threshold failed: ${g.message}`);
                else problems.push(...checkFigures(r, m, g));
            } else if (g.passed || !MUST_SAY[g.expect].test(g.message)) {
                problems.push(`${m.name}: expected a ${g.expect} failure, got: ${g.passed ? "a pass" : g.message}`);
            }
        }
    }
    return problems;
}

const f1 = (n: number) => n.toFixed(1);

/** A Markdown table of the figures, one row per model, as docs/throughput-gate.md shows them. */
export function summaryTable(r: BenchReport): string {
    const rows = [
        "| model (random weights, F16 llama) | weights | decode tok/s (median, slowest) | roofline | efficiency | size_vram / size | load | write + create |",
        "|---|---|---|---|---|---|---|---|",
    ];
    for (const m of r.models) {
        const f = m.gates.find((g) => g.expect === "pass")?.figures;
        if (f === undefined) continue;
        rows.push(
            `| ${m.name} (${m.width} wide, ${m.layers} layers) | ${(f.modelBytes / 1e9).toFixed(2)} GB | ${f1(f.tokensPerSecond)} (${f1(f.slowestTokensPerSecond)}) | ${f1(f.ceilingTokensPerSecond)} | ${f1(f.efficiencyPercent)}% | ${(f.sizeVram / 1e9).toFixed(2)} / ${(f.size / 1e9).toFixed(2)} GB | ${(f.loadMs / 1000).toFixed(1)} s | ${f1(m.writeSeconds)} + ${f1(m.createSeconds)} s |`,
        );
    }
    return rows.join("\n");
}
