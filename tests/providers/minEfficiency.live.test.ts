// minEfficiency (the provider's minEfficiency): a share of the card's roofline required as well
// as tokens/s, the higher of the two applying. The arithmetic, the provider's check and diff, and the
// create path against a real Ollama (built by .ci/ollama.sh) with the tiny model, like the gate's
// other tests (modelThroughput.live.test.ts).

import { GATE_DEFAULTS } from "../../config/schema";
import { requiredRate } from "../../providers/ollama/measure";
import { ModelThroughputInputs, modelThroughputProvider, ModelThroughputState } from "../../providers/ollama/provider";
import { findOllama, OllamaServer, startOllama, TEST_THREADS } from "../../testing/ollamaServer";

const bin = findOllama();
if (!bin && process.env["CI"]) {
    throw new Error("no ollama binary: .ci/run builds it with .ci/ollama.sh (see README, Tests)");
}
if (!bin) console.warn("ollama not found: the minEfficiency integration tests are skipped (`bash .ci/ollama.sh`)");
const describeWithOllama = bin ? describe : describe.skip;
jest.setTimeout(240_000);

const CPU = { name: "cpu0", model: "test CPU (no GPU)", vramGiB: 0, memoryBandwidthGBs: 20 };
const provider = modelThroughputProvider as Required<typeof modelThroughputProvider>;

const inputs = (endpoint: string, over: Partial<ModelThroughputInputs> = {}): ModelThroughputInputs => ({
    ...GATE_DEFAULTS,
    endpoint,
    model: "tiny",
    gpu: CPU,
    minTokensPerSecond: 1,
    numPredict: 32,
    runs: 2,
    requireGpu: false,
    timeoutSeconds: 120,
    stallSeconds: 30,
    attempts: 2,
    backoffMs: 50,
    removeOnDelete: false,
    ...over,
});

test("the higher requirement applies: tokens/s, or the share of the ceiling", () => {
    expect(requiredRate({ minTokensPerSecond: 50, ceiling: 87.8 })).toEqual({
        tokensPerSecond: 50,
        byEfficiency: false,
    });
    // mistral:7b Q4_0 (4.1 GB) on an RTX 3060 (360 GB/s): ceiling 87.8, 45% of it is 39.5 tokens/s.
    expect(requiredRate({ minTokensPerSecond: 30, minEfficiency: 0.45, ceiling: 87.8 })).toEqual({
        tokensPerSecond: 0.45 * 87.8,
        byEfficiency: true,
    });
    expect(requiredRate({ minTokensPerSecond: 50, minEfficiency: 0.45, ceiling: 87.8 }).byEfficiency).toBe(false);
});

test("check refuses a share of 0 or above 1, and accepts none or 0.5", async () => {
    const reasons = async (minEfficiency?: number) =>
        (
            await provider.check(
                inputs("http://127.0.0.1:1"),
                inputs("http://127.0.0.1:1", minEfficiency === undefined ? {} : { minEfficiency }),
            )
        ).failures;
    expect(await reasons(0)).toEqual([expect.objectContaining({ property: "minEfficiency" })]);
    expect(await reasons(1.5)).toEqual([expect.objectContaining({ property: "minEfficiency" })]);
    expect(await reasons(0.5)).toEqual([]);
    expect(await reasons()).toEqual([]);
});

test("changing it measures again (an update, not a replacement)", async () => {
    const olds = { ...inputs("http://127.0.0.1:1"), passed: true } as unknown as ModelThroughputState;
    const diff = await provider.diff("id", olds, inputs("http://127.0.0.1:1", { minEfficiency: 0.4 }));
    expect(diff).toMatchObject({ changes: true, replaces: [] });
});

describeWithOllama("minEfficiency against a real Ollama", () => {
    let server: OllamaServer;
    beforeAll(async () => {
        server = await startOllama(bin as string);
        await server.createTinyModel("tiny", { threads: TEST_THREADS });
    }, 120_000);
    afterAll(async () => {
        await server?.stop();
    });

    test("a share the CPU reaches passes and is recorded; the whole roofline fails, naming the share", async () => {
        const { outs } = await provider.create(inputs(server.endpoint, { minEfficiency: 1e-6 }));
        const state = outs as ModelThroughputState;
        expect(state).toMatchObject({ passed: true, minEfficiency: 1e-6 });
        expect(state.ceilingTokensPerSecond).toBeCloseTo(20e9 / state.modelBytes, 6);
        // A share that small of the CPU's ceiling is under 1 token/s: the floor is the rate recorded.
        expect(1e-6 * state.ceilingTokensPerSecond).toBeLessThan(1);
        expect(state.requiredTokensPerSecond).toBe(1);

        await expect(provider.create(inputs(server.endpoint, { minEfficiency: 1 }))).rejects.toThrow(
            /^throughput gate failed: model tiny on GPU cpu0 .*: too slow, measured [\d.]+ tokens\/s \(median, slowest [\d.]+\), required ([\d.]+) tokens\/s \(100% of the card's ceiling\); the card's ceiling for this model is \1 tokens\/s/,
        );
    });
});
