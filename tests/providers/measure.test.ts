// The gate's arithmetic and messages, and the provider's diff, without a server.

import {
    ceilingTokensPerSecond,
    efficiencyPercent,
    Generation,
    median,
    rate,
    residencyOf,
    summarize,
    verdict,
    VerdictInput,
} from "../../providers/ollama/measure";
import { GATE_DEFAULTS } from "../../config/schema";
import { digestMatches, isTransient } from "../../providers/ollama/transport";
import { canonicalName, modelSlug } from "../../lib/modelRef";
import { inputsOf, modelThroughputProvider, ModelThroughputState, remeasured } from "../../providers/ollama/provider";

const RTX3060 = { name: "rtx3060", model: "NVIDIA GeForce RTX 3060", vramGiB: 12, memoryBandwidthGBs: 360 };

function run(evalCount: number, evalMs: number, extra: Partial<Generation> = {}): Generation {
    return {
        eval_count: evalCount,
        eval_duration: evalMs * 1e6,
        prompt_eval_count: 20,
        prompt_eval_duration: 10e6,
        load_duration: 0,
        total_duration: (evalMs + 10) * 1e6,
        timeToFirstTokenMs: 15,
        ...extra,
    };
}

describe("figures", () => {
    test("rate is tokens over seconds, from nanoseconds", () => {
        expect(rate(128, 2e9)).toBe(64);
        expect(rate(0, 1e9)).toBe(0);
        expect(rate(10, 0)).toBe(0);
    });

    test("median of odd and even counts", () => {
        expect(median([3, 1, 2])).toBe(2);
        expect(median([4, 1, 3, 2])).toBe(2.5);
        expect(() => median([])).toThrow("median of no values");
    });

    test("summary: median and slowest decode, prompt rate, TTFT; load time from the warm-up only", () => {
        const warmup = run(128, 4000, { load_duration: 2.5e9 });
        const runs = [run(128, 2000), run(128, 1600, { timeToFirstTokenMs: 30 }), run(128, 2560)];
        const s = summarize(warmup, runs);
        expect(s.runsTokensPerSecond).toEqual([64, 80, 50]);
        expect(s.tokensPerSecond).toBe(64);
        expect(s.slowestTokensPerSecond).toBe(50);
        expect(s.promptTokensPerSecond).toBe(2000);
        expect(s.timeToFirstTokenMs).toBe(15);
        expect(s.loadMs).toBe(2500);
        expect(() => summarize(warmup, [])).toThrow("no measured runs");
    });

    test("roofline: bandwidth over model bytes (Mistral 7B Q4 on a 3060 is about 82 tokens/s)", () => {
        expect(ceilingTokensPerSecond(360, 4.4e9)).toBeCloseTo(81.8, 1);
        expect(ceilingTokensPerSecond(1792, 9e9)).toBeCloseTo(199.1, 1);
        expect(ceilingTokensPerSecond(360, 0)).toBe(0);
        expect(efficiencyPercent(61.4, 81.8)).toBeCloseTo(75.1, 1);
    });

    test("residency from ps: all in VRAM, split, or none", () => {
        expect(residencyOf(5e9, 5e9)).toBe("gpu");
        expect(residencyOf(5e9, 3e9)).toBe("partial");
        expect(residencyOf(5e9, 0)).toBe("cpu");
    });
});

describe("verdicts name the model, the GPU, the measured and the required figure", () => {
    const base = (over: Partial<VerdictInput>): VerdictInput => ({
        model: "mistral:7b",
        gpu: RTX3060,
        endpoint: "http://10.20.20.10:11434",
        summary: summarize(run(128, 0), [run(128, 2000), run(128, 2000), run(128, 2200)]),
        minTokensPerSecond: 50,
        residency: "gpu",
        size: 5.5 * 2 ** 30,
        sizeVram: 5.5 * 2 ** 30,
        requireGpu: true,
        ceiling: 81.8,
        ...over,
    });

    test("pass", () => {
        const v = verdict(base({}));
        expect(v.passed).toBe(true);
        expect(v.cause).toBeUndefined();
        // The bar it applied, which the gate records and the probe compares with.
        expect(v.requiredTokensPerSecond).toBe(50);
        expect(v.message).toBe(
            "model mistral:7b on GPU rtx3060 (NVIDIA GeForce RTX 3060, 12 GiB) at http://10.20.20.10:11434: 64.0 tokens/s (median, slowest 58.2), required 50.0 tokens/s; fully in VRAM.",
        );
    });

    test("too slow, with the ceiling and how much of it was reached", () => {
        const v = verdict(base({ minTokensPerSecond: 70 }));
        expect(v).toMatchObject({ passed: false, cause: "too-slow" });
        expect(v.message).toContain("model mistral:7b on GPU rtx3060 (NVIDIA GeForce RTX 3060, 12 GiB)");
        expect(v.message).toContain("too slow, measured 64.0 tokens/s (median, slowest 58.2), required 70.0 tokens/s");
        expect(v.message).toContain("ceiling for this model is 81.8 tokens/s (78.2% reached)");
        expect(v.message).toContain("power or thermal limits");
    });

    test("the required rate recorded is the share of the ceiling when that is higher, pass or fail", () => {
        expect(verdict(base({ minEfficiency: 0.7 }))).toMatchObject({
            passed: true,
            requiredTokensPerSecond: 0.7 * 81.8,
        });
        expect(verdict(base({ minEfficiency: 0.9 }))).toMatchObject({
            passed: false,
            cause: "too-slow",
            requiredTokensPerSecond: 0.9 * 81.8,
        });
        const cpu = verdict(base({ residency: "cpu", sizeVram: 0, minEfficiency: 0.9 }));
        expect(cpu).toMatchObject({ cause: "cpu-fallback", requiredTokensPerSecond: 0.9 * 81.8 });
    });

    test("a requirement above the card's ceiling says so", () => {
        const v = verdict(base({ minTokensPerSecond: 90 }));
        expect(v.cause).toBe("too-slow");
        expect(v.message).toContain("above what the card's memory bandwidth allows");
    });

    test("CPU fallback fails even when the rate would pass", () => {
        const v = verdict(base({ residency: "cpu", sizeVram: 0, minTokensPerSecond: 10 }));
        expect(v).toMatchObject({ passed: false, cause: "cpu-fallback" });
        expect(v.message).toContain("CPU fallback, none of its 5.5 GiB is in VRAM; measured 64.0 tokens/s");
        expect(v.message).toContain("required 10.0 tokens/s");
        expect(v.message).toContain("nvidia-smi");
    });

    test("partial offload names the split", () => {
        const v = verdict(base({ residency: "partial", sizeVram: 4 * 2 ** 30 }));
        expect(v).toMatchObject({ passed: false, cause: "partial-offload" });
        expect(v.message).toContain("partial offload, 4.0 GiB of 5.5 GiB in VRAM");
    });

    test("residency is not judged when requireGpu is off (CPU test servers)", () => {
        const v = verdict(base({ residency: "cpu", sizeVram: 0, requireGpu: false }));
        expect(v.passed).toBe(true);
        expect(v.message).toContain("residency cpu (not required)");
    });
});

describe("names, digests, transient errors", () => {
    test("names compare as Ollama resolves them: any case, default registry implied, tag latest", () => {
        expect(canonicalName("tiny")).toBe("tiny:latest");
        expect(canonicalName("qwen2.5:14b")).toBe("qwen2.5:14b");
        expect(canonicalName("Qwen2.5:14B")).toBe("qwen2.5:14b");
        expect(canonicalName("library/mistral")).toBe("mistral:latest");
        expect(canonicalName("registry.ollama.ai/library/mistral:7b")).toBe("mistral:7b");
        expect(canonicalName("host:5000/ns/model")).toBe("host:5000/ns/model:latest");
        expect(modelSlug("qwen2.5:14b")).toBe("qwen2-5-14b");
        expect(modelSlug("Mistral")).toBe("mistral");
    });

    test("a pinned digest matches by prefix, with or without sha256:", () => {
        const actual = "ff907c826abf7ee708e5688328fa52889f256f393823920d11ffee2d4349b097";
        expect(digestMatches(undefined, actual)).toBe(true);
        expect(digestMatches("ff907c826abf", actual)).toBe(true);
        expect(digestMatches("sha256:FF907C826ABF7EE7", actual)).toBe(true);
        expect(digestMatches("00907c826abf", actual)).toBe(false);
    });

    test("connection failures and gateway errors are retried; an HTTP 404 is not", () => {
        const refused = new TypeError("fetch failed", {
            cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
        });
        expect(isTransient(refused)).toBe(true);
        expect(isTransient(Object.assign(new Error("bad gateway"), { status_code: 502 }))).toBe(true);
        expect(isTransient(Object.assign(new Error("not found"), { status_code: 404 }))).toBe(false);
        expect(isTransient(new TypeError("fetch failed", { cause: new Error("bad port") }))).toBe(false);
    });
});

describe("diff: what makes the gate run again", () => {
    const olds = {
        endpoint: "http://10.20.20.10:11434",
        model: "mistral:7b",
        gpu: RTX3060,
        minTokensPerSecond: 50,
        ...GATE_DEFAULTS,
        prompt: "p",
        attempts: 4,
        removeOnDelete: false,
        passed: true,
        ceilingTokensPerSecond: 81.8,
        requiredTokensPerSecond: 50,
    } as unknown as ModelThroughputState;
    const diff = (news: Partial<ModelThroughputState>, old: Partial<ModelThroughputState> = {}) =>
        (modelThroughputProvider.diff as NonNullable<typeof modelThroughputProvider.diff>)(
            "id",
            { ...olds, ...old },
            { ...olds, ...news },
        );

    test("nothing changed: no run", async () => {
        expect(await diff({})).toEqual({ changes: false, replaces: [] });
    });

    test("another model or endpoint replaces the gate", async () => {
        expect(await diff({ model: "mistral:7b-instruct" })).toEqual({ changes: true, replaces: ["model"] });
        expect(await diff({ endpoint: "http://10.20.20.11:11434" })).toEqual({ changes: true, replaces: ["endpoint"] });
    });

    test("threshold, digest or GPU changes measure again in place", async () => {
        for (const change of [
            { minTokensPerSecond: 60 },
            { digest: "ff907c826abf" },
            { gpu: { ...RTX3060, memoryBandwidthGBs: 400 } },
        ]) {
            expect(await diff(change)).toEqual({ changes: true, replaces: [] });
        }
    });

    test("a new Ollama server (its container replaced) measures again", async () => {
        expect(await diff({ server: "b" }, { server: "a" })).toEqual({ changes: true, replaces: [] });
    });

    test("with removeOnDelete, a replacement deletes the old gate first (it may share the server)", async () => {
        expect(await diff({ endpoint: "http://ai.lan:11434", removeOnDelete: true })).toEqual({
            changes: true,
            replaces: ["endpoint"],
            deleteBeforeReplace: true,
        });
    });

    test("any other input measures again, a setting the provider never names included; timeouts do not", async () => {
        // The re-measure keys are every input but the replace and the stored ones: a gate setting
        // added to the schema re-measures with no edit to the provider.
        expect(await diff({ keepAliveSeconds: 30 } as Partial<ModelThroughputState>)).toEqual({
            changes: true,
            replaces: [],
        });
        expect(remeasured(olds, { ...olds, runs: 5, timeoutSeconds: 1 })).toEqual(["runs"]);
        expect(remeasured(olds, { ...olds, timeoutSeconds: 1, attempts: 1, backoffMs: 1 })).toEqual([]);
        // The engine's serialized provider changes with the provider's code, not with the gate.
        const provider = (p: string) => ({ ...olds, __provider: p }) as ModelThroughputState;
        expect(remeasured(provider("a"), provider("b"))).toEqual([]);
    });

    test("a state recorded under the old names is the same gate; the next up records today's, without measuring", async () => {
        // Then requiredTokensPerSecond was the threshold input and requiredEfficiency the share.
        const { minTokensPerSecond, requiredTokensPerSecond, ...rest } = olds;
        void requiredTokensPerSecond;
        const news = { ...olds, minEfficiency: 0.7 };
        const legacy = {
            ...rest,
            requiredTokensPerSecond: minTokensPerSecond,
            requiredEfficiency: 0.7,
        } as unknown as ModelThroughputState;
        const provider = modelThroughputProvider as Required<typeof modelThroughputProvider>;
        // The same inputs: nothing to measure, but a state to record under today's names.
        expect(remeasured(inputsOf(legacy), news)).toEqual([]);
        expect(await provider.diff("id", legacy, news)).toEqual({ changes: true, replaces: [] });
        expect(remeasured(inputsOf(legacy), { ...news, minTokensPerSecond: 60 })).toEqual(["minTokensPerSecond"]);
        // The update keeps the measurement (no server: it would fail to measure) and records the rate
        // the gate required, from the recorded ceiling: 70% of 81.8 is above the 50 tokens/s.
        const { outs } = await provider.update("id", legacy, news);
        expect(outs).toMatchObject({ minTokensPerSecond: 50, minEfficiency: 0.7, passed: true });
        expect(outs?.requiredTokensPerSecond).toBe(0.7 * 81.8);
        expect(outs).not.toHaveProperty("requiredEfficiency");
        expect(await provider.diff("id", outs as ModelThroughputState, news)).toEqual({ changes: false, replaces: [] });
    });

    test("a state recorded before the gate recorded its required rate gets it on the next up, unmeasured", async () => {
        const { requiredTokensPerSecond, ...before } = olds;
        void requiredTokensPerSecond;
        const provider = modelThroughputProvider as Required<typeof modelThroughputProvider>;
        const measuredAt = "2025-06-01T00:00:00.000Z";
        const recorded = { ...before, measuredAt } as ModelThroughputState;
        expect(await provider.diff("id", recorded, olds)).toEqual({ changes: true, replaces: [] });
        // Not measured again (no server here): the recorded measurement is kept.
        const { outs } = await provider.update("id", recorded, olds);
        expect(outs).toMatchObject({ requiredTokensPerSecond: 50, passed: true, measuredAt });
        // A stored-only change keeps the recorded figures, the required rate among them.
        const stored = await provider.update("id", olds, { ...olds, timeoutSeconds: 30 });
        expect(stored.outs).toMatchObject({ requiredTokensPerSecond: 50, timeoutSeconds: 30 });
    });

    test("a refresh that measured a failure makes the next up gate again", async () => {
        expect(await diff({}, { passed: false })).toEqual({
            changes: true,
            replaces: [],
        });
    });
});

describe("check: the provider's own input check", () => {
    const check = modelThroughputProvider.check as NonNullable<typeof modelThroughputProvider.check>;
    const good = {
        endpoint: "http://10.20.20.10",
        model: "mistral:7b",
        gpu: RTX3060,
        minTokensPerSecond: 50,
        numPredict: 128,
        runs: 3,
    } as unknown as Parameters<typeof check>[1];

    test("accepts good inputs, and an endpoint not known yet during a preview", async () => {
        expect((await check(good, good)).failures).toEqual([]);
        const unknown = { ...good, endpoint: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" };
        expect((await check(good, unknown)).failures).toEqual([]);
    });

    test("refuses an endpoint without scheme, a zero threshold and zero runs, each by property", async () => {
        const bad = { ...good, endpoint: "10.20.20.10:11434", minTokensPerSecond: 0, runs: 0 };
        const { failures } = await check(good, bad);
        expect(failures?.map((f) => f.property)).toEqual(["endpoint", "minTokensPerSecond", "runs"]);
    });
});
