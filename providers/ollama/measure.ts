// The throughput gate's arithmetic and its verdicts: plain functions over Ollama's own timings, so
// they can be tested without a server. Durations from Ollama are in nanoseconds.

/** The timings Ollama reports at the end of one generation (GenerateResponse). */
export interface GenerationTimings {
    eval_count: number;
    eval_duration: number;
    prompt_eval_count: number;
    prompt_eval_duration: number;
    load_duration: number;
    total_duration: number;
}

/** One measured generation: Ollama's timings plus the client-side time to the first token. */
export interface Generation extends GenerationTimings {
    timeToFirstTokenMs: number;
}

export interface GpuUnderTest {
    /** The config key, such as "rtx5090". */
    name: string;
    /** The card, such as "NVIDIA GeForce RTX 5090". */
    model: string;
    vramGiB: number;
    memoryBandwidthGBs: number;
}

/** Where the loaded model lives, from `ps`: all in VRAM, split, or all in system RAM. */
export type Residency = "gpu" | "partial" | "cpu";

export interface Summary {
    /** Median decode rate of the measured runs (eval_count / eval_duration). */
    tokensPerSecond: number;
    /** Slowest measured run. */
    slowestTokensPerSecond: number;
    /** Every measured run's decode rate, in order. */
    runsTokensPerSecond: number[];
    /** Median prompt-processing rate (prompt_eval_count / prompt_eval_duration). */
    promptTokensPerSecond: number;
    /** Median wall time from sending the request to the first generated token. */
    timeToFirstTokenMs: number;
    /** Model load time of the warm-up run (0 when the model was already loaded). */
    loadMs: number;
}

const NS_PER_S = 1e9;

/** Tokens per second from a count and a duration in nanoseconds; 0 when nothing was timed. */
export function rate(count: number, durationNs: number): number {
    return count > 0 && durationNs > 0 ? count / (durationNs / NS_PER_S) : 0;
}

export function median(values: readonly number[]): number {
    if (values.length === 0) throw new Error("median of no values");
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Summarizes the measured runs; the warm-up run contributes only its load time. */
export function summarize(warmup: GenerationTimings, runs: readonly Generation[]): Summary {
    if (runs.length === 0) throw new Error("no measured runs");
    const decode = runs.map((r) => rate(r.eval_count, r.eval_duration));
    return {
        tokensPerSecond: median(decode),
        slowestTokensPerSecond: Math.min(...decode),
        runsTokensPerSecond: decode,
        promptTokensPerSecond: median(runs.map((r) => rate(r.prompt_eval_count, r.prompt_eval_duration))),
        timeToFirstTokenMs: median(runs.map((r) => r.timeToFirstTokenMs)),
        loadMs: warmup.load_duration / 1e6,
    };
}

/**
 * The roofline ceiling of decoding: every generated token reads all the weights once, so a card
 * cannot beat its memory bandwidth divided by the model's size. GB/s here is 10^9 bytes per second.
 */
export function ceilingTokensPerSecond(memoryBandwidthGBs: number, modelBytes: number): number {
    return modelBytes > 0 ? (memoryBandwidthGBs * 1e9) / modelBytes : 0;
}

/** Measured rate as a percentage of the ceiling. */
export function efficiencyPercent(tokensPerSecond: number, ceiling: number): number {
    return ceiling > 0 ? (100 * tokensPerSecond) / ceiling : 0;
}

/** From `ps`: the loaded size and the part of it in VRAM. */
export function residencyOf(size: number, sizeVram: number): Residency {
    if (size > 0 && sizeVram >= size) return "gpu";
    return sizeVram > 0 ? "partial" : "cpu";
}

export type Cause = "cpu-fallback" | "partial-offload" | "too-slow";

export interface Verdict {
    passed: boolean;
    /** The rate the model had to reach (requiredRate): the bar the verdict applied, recorded as measured. */
    requiredTokensPerSecond: number;
    /** Why it failed; absent when it passed. */
    cause?: Cause;
    /** One line naming the model, the GPU, the measured and the required figure. */
    message: string;
}

export interface VerdictInput {
    model: string;
    gpu: GpuUnderTest;
    endpoint: string;
    summary: Summary;
    minTokensPerSecond: number;
    /** A share of the roofline (0-1) to reach as well, when set: the higher of the two applies. */
    minEfficiency?: number;
    residency: Residency;
    /** Size of the loaded model and its VRAM part, from `ps`. */
    size: number;
    sizeVram: number;
    /** Refuse a model that is not wholly in VRAM (off for CPU-only test servers). */
    requireGpu: boolean;
    ceiling: number;
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const gib = (bytes: number) => (bytes >= 2 ** 30 ? `${fmt(bytes / 2 ** 30)} GiB` : `${fmt(bytes / 2 ** 20)} MiB`);

/**
 * The rate to reach: the tokens/s threshold, or the required share of the ceiling when higher. The
 * one place it is computed: the verdict applies it, the gate records it (requiredTokensPerSecond),
 * and the continuous probe compares with that recorded figure (components/probe).
 */
export function requiredRate(v: Pick<VerdictInput, "minTokensPerSecond" | "minEfficiency" | "ceiling">): {
    tokensPerSecond: number;
    byEfficiency: boolean;
} {
    const byRoofline = v.minEfficiency !== undefined ? v.minEfficiency * v.ceiling : 0;
    return byRoofline > v.minTokensPerSecond
        ? { tokensPerSecond: byRoofline, byEfficiency: true }
        : { tokensPerSecond: v.minTokensPerSecond, byEfficiency: false };
}

/** Decides pass or fail; the message says what was measured, what was required, and the likely cause. */
export function verdict(v: VerdictInput): Verdict {
    const gpu = `${v.gpu.name} (${v.gpu.model}, ${v.gpu.vramGiB} GiB)`;
    const measured = `${fmt(v.summary.tokensPerSecond)} tokens/s (median, slowest ${fmt(v.summary.slowestTokensPerSecond)})`;
    const need = requiredRate(v);
    const required = need.byEfficiency
        ? `${fmt(need.tokensPerSecond)} tokens/s (${fmt(100 * (v.minEfficiency ?? 0), 0)}% of the card's ceiling)`
        : `${fmt(need.tokensPerSecond)} tokens/s`;
    const head = `model ${v.model} on GPU ${gpu} at ${v.endpoint}`;
    const failed = (cause: Cause, message: string): Verdict => ({
        passed: false,
        requiredTokensPerSecond: need.tokensPerSecond,
        cause,
        message,
    });
    if (v.requireGpu && v.residency === "cpu") {
        return failed(
            "cpu-fallback",
            `${head}: CPU fallback, none of its ${gib(v.size)} is in VRAM; measured ${measured}, required ${required}. ` +
                "Ollama did not find the GPU: check `nvidia-smi` in the VM, the NVIDIA driver and container toolkit, and the GPU reservation of the Ollama container.",
        );
    }
    if (v.requireGpu && v.residency === "partial") {
        return failed(
            "partial-offload",
            `${head}: partial offload, ${gib(v.sizeVram)} of ${gib(v.size)} in VRAM and the rest on the CPU; measured ${measured}, required ${required}. ` +
                "Pick a smaller quantization or context (num_ctx), or unload other models (OLLAMA_MAX_LOADED_MODELS=1).",
        );
    }
    if (v.summary.tokensPerSecond < need.tokensPerSecond) {
        return failed("too-slow", tooSlow(v, head, measured, required, need.tokensPerSecond));
    }
    return {
        passed: true,
        requiredTokensPerSecond: need.tokensPerSecond,
        message: `${head}: ${measured}, required ${required}; ${v.residency === "gpu" ? "fully in VRAM" : `residency ${v.residency} (not required)`}.`,
    };
}

function tooSlow(v: VerdictInput, head: string, measured: string, required: string, need: number): string {
    const ceiling =
        v.ceiling > 0
            ? `; the card's ceiling for this model is ${fmt(v.ceiling)} tokens/s (${fmt(efficiencyPercent(v.summary.tokensPerSecond, v.ceiling))}% reached)`
            : "";
    const hint =
        v.ceiling > 0 && v.ceiling < need
            ? " The requirement is above what the card's memory bandwidth allows for a model this size: pick a smaller model or quantization, or lower minTokensPerSecond."
            : " Check for power or thermal limits (`nvidia-smi -q -d PERFORMANCE`), other work on the GPU, and the PCIe link.";
    return `${head}: too slow, measured ${measured}, required ${required}${ceiling}.${hint}`;
}
