// The throughput gate's work against one Ollama server, as plain functions over ollama-js: make sure
// the model is there (pulling it with progress only when needed), warm it up, time N generations,
// read its residency from `ps`, and judge the result. The dynamic provider (provider.ts) is a thin
// shell around runGate; tests and bench/gate.ts call runGate directly against a real server.

import { Ollama, type ModelResponse } from "ollama";
import {
    ceilingTokensPerSecond,
    efficiencyPercent,
    Generation,
    GenerationTimings,
    GpuUnderTest,
    Residency,
    residencyOf,
    summarize,
    Summary,
    verdict,
    Verdict,
} from "./measure";
import { canonicalName } from "../../lib/modelRef";
import { GateError, client, digestMatches, isObject, normalizeDigest, withRetry } from "./transport";

export interface GateInput {
    /** Ollama's base URL, such as http://10.10.10.10:11434. */
    endpoint: string;
    /** Model reference, such as "qwen2.5:14b"; no tag means ":latest". */
    model: string;
    /** Pinned manifest digest (sha256, at least 12 hex digits, "sha256:" optional). */
    digest?: string;
    gpu: GpuUnderTest;
    minTokensPerSecond: number;
    /** Also reach this share (0-1) of the card's roofline; the higher requirement applies. */
    minEfficiency?: number;
    prompt: string;
    /** Tokens to generate per run (num_predict). */
    numPredict: number;
    /** Measured runs after the warm-up. */
    runs: number;
    seed: number;
    /** Refuse partial offload and CPU fallback. */
    requireGpu: boolean;
    /** Per-call limit; a pull is limited by stallSeconds instead. */
    timeoutSeconds: number;
    /** A pull that reports no progress for this long is aborted. */
    stallSeconds: number;
    /** Tries for a call that fails to connect (1 = no retry). */
    attempts: number;
    /** First retry delay; it doubles each time. */
    backoffMs: number;
}

export interface GateResult extends Summary, Verdict {
    model: string;
    /** The manifest digest the server holds (hex). */
    digest: string;
    /** Whether this run had to pull the model. */
    pulled: boolean;
    /** Weights on disk (list), the roofline's divisor. */
    modelBytes: number;
    /** Loaded size and its VRAM part (ps). */
    size: number;
    sizeVram: number;
    residency: Residency;
    ceilingTokensPerSecond: number;
    efficiencyPercent: number;
    /** Wall time of the whole gate and the part Ollama spent generating (warm-up included). */
    wallMs: number;
    generationMs: number;
    measuredAt: string;
}

export type Log = (line: string) => void;

/** Hooks for tests and the bench: see every generation's raw timings. */
export interface GateHooks {
    onGeneration?: (g: Generation, warmup: boolean) => void;
    /** Every streamed token chunk, with the server's timestamp (RFC 3339, nanoseconds). */
    onToken?: (createdAt: string) => void;
}

async function findModel(api: Ollama, input: GateInput): Promise<ModelResponse | undefined> {
    const want = canonicalName(input.model);
    const { models } = await withRetry("list", input, () => api.list());
    return models.find((m) => canonicalName(m.name) === want || canonicalName(m.model) === want);
}

function percent(completed: number, total: number): number {
    return total > 0 ? Math.floor((100 * completed) / total) : 0;
}

/** Pulls the model, logging progress in 10% steps per layer, aborting a pull that stalls. */
async function pull(input: GateInput, log: Log): Promise<void> {
    const streaming = client(input.endpoint, 0);
    const stream = await withRetry("pull", input, () => streaming.pull({ model: input.model, stream: true }));
    let watchdog: NodeJS.Timeout | undefined;
    let stalled = false;
    const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
            stalled = true;
            stream.abort();
        }, input.stallSeconds * 1000);
    };
    const shown = new Map<string, number>();
    try {
        arm();
        for await (const p of stream) {
            arm();
            if (p.total > 0 && p.digest) {
                const pct = percent(p.completed ?? 0, p.total);
                const step = Math.floor(pct / 10) * 10;
                if ((shown.get(p.digest) ?? -1) < step) {
                    shown.set(p.digest, step);
                    log(
                        `pulling ${input.model}: layer ${p.digest.slice(7, 19)} ${pct}% of ${(p.total / 2 ** 30).toFixed(2)} GiB`,
                    );
                }
            } else if (p.status) {
                log(`pulling ${input.model}: ${p.status}`);
            }
        }
    } catch (err) {
        if (stalled) {
            throw new GateError(
                `pulling model ${input.model} on ${input.endpoint} stalled: no progress for ${input.stallSeconds} s. Check the VM's internet access, then run \`pulumi up\` again (the pull resumes)`,
                "pull-failed",
            );
        }
        throw classifyPullError(input, err);
    } finally {
        clearTimeout(watchdog);
    }
}

function classifyPullError(input: GateInput, err: unknown): GateError {
    if (err instanceof GateError) return err;
    const raw = isObject(err) && typeof err["message"] === "string" ? err["message"] : String(err);
    const missing = /file does not exist|not found|manifest unknown/i.test(raw);
    return new GateError(
        missing
            ? `model ${input.model} does not exist in the registry (${raw}); check the name and tag at https://ollama.com/library`
            : `model ${input.model} is not on ${input.endpoint} and pulling it failed: ${raw}. ` +
                  "Check the name and tag, and that the VM can reach registry.ollama.ai; on an air-gapped host, `ollama create` the model there first",
        missing ? "unknown-model" : "pull-failed",
    );
}

/**
 * The body of every measured generation: fixed prompt, greedy sampling, fixed seed and length. The
 * continuous probe in the VMs (components/probe) sends this same body, rendered into its spec.
 */
export function generateRequest(input: Pick<GateInput, "model" | "prompt" | "seed" | "numPredict">) {
    return {
        model: input.model,
        prompt: input.prompt,
        stream: true as const,
        options: { temperature: 0, seed: input.seed, num_predict: input.numPredict },
    };
}

/** One streamed generation with fixed sampling; returns Ollama's timings and the client's TTFT. */
async function generate(api: Ollama, input: GateInput, hooks?: GateHooks): Promise<Generation> {
    return withRetry("generate", input, async () => {
        const started = performance.now();
        let firstToken: number | undefined;
        let last: GenerationTimings | undefined;
        const stream = await api.generate(generateRequest(input));
        try {
            for await (const chunk of stream) {
                if (chunk.response) {
                    firstToken ??= performance.now();
                    hooks?.onToken?.(String(chunk.created_at));
                }
                if (chunk.done) last = chunk;
            }
        } catch (err) {
            // ollama-js's words for a stream that closed without its final, timed message.
            if (
                isObject(err) &&
                typeof err["message"] === "string" &&
                err["message"].startsWith("Did not receive done")
            ) {
                throw new GateError(
                    `Ollama at ${input.endpoint} stopped generating with model ${input.model} before the ${input.numPredict} tokens (it aborts an output that repeats one token 30 times, or its runner failed; see \`journalctl\` or the container log); try another throughputGate.prompt`,
                    "ollama",
                );
            }
            throw err;
        }
        if (last === undefined) throw new GateError(`Ollama at ${input.endpoint} ended a generation early`, "ollama");
        return { ...pickTimings(last), timeToFirstTokenMs: (firstToken ?? performance.now()) - started };
    });
}

function pickTimings(r: GenerationTimings): GenerationTimings {
    return {
        eval_count: r.eval_count ?? 0,
        eval_duration: r.eval_duration ?? 0,
        prompt_eval_count: r.prompt_eval_count ?? 0,
        prompt_eval_duration: r.prompt_eval_duration ?? 0,
        load_duration: r.load_duration ?? 0,
        total_duration: r.total_duration ?? 0,
    };
}

export interface RunOptions {
    /** Pull a missing or out-of-date model (create, update); refresh only measures. */
    allowPull: boolean;
    log: Log;
    hooks?: GateHooks;
}

/** The model on the server, pulled first when it is missing or not the pinned digest (if allowed). */
async function ensureModel(
    api: Ollama,
    input: GateInput,
    options: RunOptions,
): Promise<{ present: ModelResponse; pulled: boolean }> {
    const found = await findModel(api, input);
    if (found !== undefined && digestMatches(input.digest, found.digest)) return { present: found, pulled: false };
    const pinned = normalizeDigest(input.digest ?? "").slice(0, 12);
    if (!options.allowPull) {
        throw new GateError(
            found === undefined
                ? `model ${input.model} is no longer on ${input.endpoint}; run \`pulumi up\` to pull it again`
                : `model ${input.model} on ${input.endpoint} is ${found.digest.slice(0, 12)}, not the pinned ${pinned}; run \`pulumi up\``,
            "digest-mismatch",
        );
    }
    options.log(
        found === undefined
            ? `model ${input.model} is not on ${input.endpoint}: pulling it`
            : `model ${input.model} is ${found.digest.slice(0, 12)}, pinned ${pinned}: pulling it`,
    );
    await pull(input, options.log);
    const present = await findModel(api, input);
    if (present === undefined) {
        throw new GateError(`pulled model ${input.model} but ${input.endpoint} does not list it`, "ollama");
    }
    if (!digestMatches(input.digest, present.digest)) {
        throw new GateError(
            `model ${input.model}: the registry serves ${present.digest.slice(0, 12)}, but the config pins ${pinned}; update the pinned digest or the tag`,
            "digest-mismatch",
        );
    }
    return { present, pulled: true };
}

/** One warm-up generation, then the measured ones. */
async function timeRuns(api: Ollama, input: GateInput, options: RunOptions) {
    options.log(
        `measuring ${input.model} on ${input.gpu.name}: 1 warm-up and ${input.runs} run${input.runs === 1 ? "" : "s"} of ${input.numPredict} tokens`,
    );
    const warmup = await generate(api, input, options.hooks);
    options.hooks?.onGeneration?.(warmup, true);
    const runs: Generation[] = [];
    for (let i = 0; i < input.runs; i++) {
        const g = await generate(api, input, options.hooks);
        options.hooks?.onGeneration?.(g, false);
        runs.push(g);
    }
    return { warmup, runs };
}

/** The loaded runner of the model, as `ps` reports it right after the runs. */
async function loadedRunner(api: Ollama, input: GateInput, present: ModelResponse) {
    const { models: loaded } = await withRetry("ps", input, () => api.ps());
    // An alias (`ollama cp`) shares the loaded runner, which ps lists under the first name: match
    // the manifest digest too.
    const running = loaded.find(
        (m) => canonicalName(m.name) === canonicalName(input.model) || m.digest === present.digest,
    );
    if (running === undefined) {
        throw new GateError(
            `model ${input.model} was not loaded on ${input.endpoint} right after generating; is OLLAMA_KEEP_ALIVE 0?`,
            "ollama",
        );
    }
    return running;
}

/**
 * The gate: ensure the model, warm up, measure, check residency, judge. Infrastructure failures
 * throw a GateError; a slow or misplaced model returns `passed: false` with the message.
 */
export async function runGate(input: GateInput, options: RunOptions): Promise<GateResult> {
    const wallStart = performance.now();
    const api = client(input.endpoint, input.timeoutSeconds * 1000);
    const { present, pulled } = await ensureModel(api, input, options);
    const { warmup, runs } = await timeRuns(api, input, options);
    const summary = summarize(warmup, runs);
    const running = await loadedRunner(api, input, present);
    const residency = residencyOf(running.size, running.size_vram);
    const ceiling = ceilingTokensPerSecond(input.gpu.memoryBandwidthGBs, present.size);
    const judged = verdict({
        model: input.model,
        gpu: input.gpu,
        endpoint: input.endpoint,
        summary,
        minTokensPerSecond: input.minTokensPerSecond,
        ...(input.minEfficiency !== undefined ? { minEfficiency: input.minEfficiency } : {}),
        residency,
        size: running.size,
        sizeVram: running.size_vram,
        requireGpu: input.requireGpu,
        ceiling,
    });
    return {
        ...summary,
        ...judged,
        model: input.model,
        digest: present.digest,
        pulled,
        modelBytes: present.size,
        size: running.size,
        sizeVram: running.size_vram,
        residency,
        ceilingTokensPerSecond: ceiling,
        efficiencyPercent: efficiencyPercent(summary.tokensPerSecond, ceiling),
        wallMs: performance.now() - wallStart,
        generationMs: [warmup, ...runs].reduce((sum, g) => sum + g.total_duration, 0) / 1e6,
        measuredAt: new Date().toISOString(),
    };
}

/** Removes the model from the server; a model already gone is fine. */
export async function removeModel(input: GateInput): Promise<void> {
    const api = client(input.endpoint, input.timeoutSeconds * 1000);
    try {
        await withRetry("delete", input, () => api.delete({ model: input.model }));
    } catch (err) {
        if ((err as { status_code?: unknown }).status_code === 404) return;
        throw err;
    }
}
