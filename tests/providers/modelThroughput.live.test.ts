// The throughput gate against a real Ollama server (built from its Go module by .ci/ollama.sh),
// started on 127.0.0.1 with a throwaway model store and a tiny random-weights model. No GPU here:
// the server runs on the CPU, which is what lets the residency check be tested both ways.

import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import * as pulumi from "@pulumi/pulumi";
import { GATE_DEFAULTS } from "../../config/schema";
import { runGate } from "../../providers/ollama/runGate";
import { GateError } from "../../providers/ollama/transport";
import { ModelThroughputInputs, modelThroughputProvider, ModelThroughputState } from "../../providers/ollama/provider";
import { Generation, median, rate } from "../../providers/ollama/measure";
import { findOllama, freePort, OllamaServer, startOllama, TEST_THREADS } from "../../testing/ollamaServer";

const bin = findOllama();
if (!bin && process.env["CI"]) {
    throw new Error("no ollama binary: .ci/run builds it with .ci/ollama.sh (see README, Tests)");
}
if (!bin) console.warn("ollama not found: the gate's integration tests are skipped (`bash .ci/ollama.sh` builds it)");
const describeWithOllama = bin ? describe : describe.skip;

const CPU = { name: "cpu0", model: "test CPU (no GPU)", vramGiB: 0, memoryBandwidthGBs: 20 };
const NUM_PREDICT = 32;
// Generous limits: on a busy two-core CI machine a model load can take many seconds.
jest.setTimeout(240_000);

describeWithOllama("ModelThroughput against a real Ollama", () => {
    let server: OllamaServer;
    const provider = modelThroughputProvider as Required<typeof modelThroughputProvider>;
    const create = async (i: ModelThroughputInputs): Promise<{ id: string; outs: ModelThroughputState }> => {
        const { id, outs } = await provider.create(i);
        return { id, outs: outs as ModelThroughputState };
    };

    beforeAll(async () => {
        server = await startOllama(bin as string);
        await server.createTinyModel("tiny", { threads: TEST_THREADS });
    }, 120_000);
    afterAll(async () => {
        await server?.stop();
    });

    const inputs = (over: Partial<ModelThroughputInputs> = {}): ModelThroughputInputs => ({
        ...GATE_DEFAULTS,
        endpoint: server.endpoint,
        model: "tiny",
        gpu: CPU,
        minTokensPerSecond: 1,
        numPredict: NUM_PREDICT,
        runs: 3,
        requireGpu: false,
        timeoutSeconds: 120,
        stallSeconds: 30,
        attempts: 2,
        backoffMs: 50,
        removeOnDelete: false,
        ...over,
    });
    /**
     * One short run (after the warm-up) for the tests of failures, pulls, pins, diff, refresh, delete and the serialized provider: they check
     * what the gate asks Ollama, says and records, not the figures, which the first test measures with full runs.
     */
    const short = (over: Partial<ModelThroughputInputs> = {}) => inputs({ runs: 1, numPredict: 4, ...over });
    /** Pull requests the server has logged so far (its access log; lines arrive just after the reply). */
    const pulls = async () => {
        await new Promise((r) => setTimeout(r, 300));
        return server.log().match(/"\/api\/pull"/g)?.length ?? 0;
    };

    test("passes with a threshold below what the CPU gives, and reports Ollama's own figures", async () => {
        const seen: Generation[] = [];
        const { gateInput } = await import("../../providers/ollama/provider");
        const result = await runGate(gateInput(inputs()), {
            allowPull: true,
            log: () => undefined,
            hooks: { onGeneration: (g, warmup) => !warmup && seen.push(g) },
        });
        expect(result.passed).toBe(true);
        expect(seen).toHaveLength(3);
        // The tiny model never stops early: every run decodes exactly numPredict tokens.
        for (const g of seen) expect(g.eval_count).toBe(NUM_PREDICT);
        const rates = seen.map((g) => rate(g.eval_count, g.eval_duration));
        expect(result.runsTokensPerSecond).toEqual(rates);
        expect(result.tokensPerSecond).toBe(median(rates));
        expect(result.slowestTokensPerSecond).toBe(Math.min(...rates));
        expect(result.tokensPerSecond).toBeGreaterThan(1);
        // CPU server: nothing in VRAM, and the roofline from the configured bandwidth and list's size.
        expect(result).toMatchObject({ residency: "cpu", sizeVram: 0, pulled: false });
        expect(result.modelBytes).toBeGreaterThan(400_000);
        expect(result.ceilingTokensPerSecond).toBeCloseTo(20e9 / result.modelBytes, 6);
        // The digest is the one `ollama list` shows (its ID column is the first 12 hex digits).
        const listed = await server.cli(["list"]);
        expect(listed).toMatch(new RegExp(`^tiny:latest\\s+${result.digest.slice(0, 12)}\\s`, "m"));
    });

    test("create fails with a threshold far above it, naming model, GPU, measured and required", async () => {
        await expect(provider.create(short({ minTokensPerSecond: 1_000_000 }))).rejects.toThrow(
            /^throughput gate failed: model tiny on GPU cpu0 \(test CPU \(no GPU\), 0 GiB\) at http:\/\/127\.0\.0\.1:\d+: too slow, measured \d+\.\d tokens\/s \(median, slowest \d+\.\d\), required 1000000\.0 tokens\/s; the card's ceiling for this model is \d+\.\d tokens\/s/,
        );
    });

    test("residency: requireGpu refuses the CPU run; off, the same run passes", async () => {
        await expect(provider.create(short({ requireGpu: true }))).rejects.toThrow(
            /model tiny on GPU cpu0 .*: CPU fallback, none of its [\d.]+ MiB is in VRAM; measured [\d.]+ tokens\/s .*required 1\.0 tokens\/s/,
        );
        const { outs } = await create(short({ requireGpu: false }));
        expect(outs).toMatchObject({ passed: true, residency: "cpu", requireGpu: false });
    });

    test("server down: a clear error after the configured tries", async () => {
        const port = await freePort();
        const started = Date.now();
        await expect(provider.create(inputs({ endpoint: `http://127.0.0.1:${port}`, attempts: 3 }))).rejects.toThrow(
            `cannot reach Ollama at http://127.0.0.1:${port} for model tiny on GPU cpu0: ECONNREFUSED after 3 tries. Is the VM running`,
        );
        // Backoff 50 ms then 100 ms between the three tries.
        expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    });

    test("unknown model with no registry reachable: one pull, a clear error, progress logged", async () => {
        const before = await pulls();
        const lines: string[] = [];
        const { gateInput } = await import("../../providers/ollama/provider");
        const err = await runGate(gateInput(inputs({ model: "nosuch-model:1b" })), {
            allowPull: true,
            log: (l) => lines.push(l),
        }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(GateError);
        expect((err as GateError).message).toMatch(
            /^model nosuch-model:1b (is not on http:\/\/127\.0\.0\.1:\d+ and pulling it failed: .*registry|does not exist in the registry)/,
        );
        expect(["pull-failed", "unknown-model"]).toContain((err as GateError).kind);
        expect(lines[0]).toMatch(/^model nosuch-model:1b is not on http:\/\/127\.0\.0\.1:\d+: pulling it$/);
        expect(await pulls()).toBe(before + 1);
    });

    test("a model already there is not pulled again: two creates, no pull request", async () => {
        const before = await pulls();
        const first = await create(short());
        const second = await create(short());
        expect(first.outs.pulled).toBe(false);
        expect(second.outs.pulled).toBe(false);
        expect(second.outs.modelDigest).toBe(first.outs.modelDigest);
        expect(await pulls()).toBe(before);
        expect(first.id).toBe(`${server.endpoint}#tiny:latest`);
    });

    test("a pinned digest: matching is not pulled; another digest pulls again", async () => {
        const { outs } = await create(short());
        const before = await pulls();
        await provider.create(short({ digest: `sha256:${outs.modelDigest.slice(0, 16)}` }));
        expect(await pulls()).toBe(before);
        // Another digest makes it pull; with no registry here the pull itself is what fails.
        const err = await provider.create(short({ digest: "0123456789ab" })).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(GateError);
        expect(err).toMatchObject({ kind: "pull-failed" });
        expect((err as GateError).message).toMatch(
            /^model tiny is not on http:\/\/127\.0\.0\.1:\d+ and pulling it failed/,
        );
        expect(await pulls()).toBe(before + 1);
    });

    test("an unchanged gate does not run again: diff of its own recorded state", async () => {
        const { id, outs } = await create(short());
        expect(outs.modelDigest).toMatch(/^[0-9a-f]{64}$/);
        expect(outs.digest).toBeUndefined();
        expect(await provider.diff(id, outs, short())).toEqual({ changes: false, replaces: [] });
        expect(await provider.diff(id, outs, short({ server: "another-container" }))).toEqual({
            changes: true,
            replaces: [],
        });
    });

    test("refresh measures again without pulling; a model gone since is recorded as a failed gate", async () => {
        await server.cli(["cp", "tiny", "tiny-refresh"]);
        const { id, outs } = await create(short({ model: "tiny-refresh" }));
        const read = await provider.read(id, outs);
        expect(read.props?.measuredAt).not.toBe(outs.measuredAt);
        expect(read.props?.tokensPerSecond).toBeGreaterThan(0);
        expect(read.props?.minTokensPerSecond).toBe(1);
        await server.cli(["rm", "tiny-refresh"]);
        const before = await pulls();
        const gone = await provider.read(id, outs);
        expect(gone.props).toMatchObject({
            passed: false,
            message: `model tiny-refresh is no longer on ${server.endpoint}; run \`pulumi up\` to pull it again`,
        });
        expect(await pulls()).toBe(before);
        // So the next `up` gates it again.
        expect(await provider.diff(id, gone.props as ModelThroughputState, short({ model: "tiny-refresh" }))).toEqual({
            changes: true,
            replaces: [],
        });
    });

    test("delete keeps the model by default and removes it when asked", async () => {
        await server.cli(["cp", "tiny", "tiny-keep"]);
        await server.cli(["cp", "tiny", "tiny-drop"]);
        const keep = await create(short({ model: "tiny-keep" }));
        const drop = await create(short({ model: "tiny-drop", removeOnDelete: true }));
        await provider.delete(keep.id, keep.outs);
        await provider.delete(drop.id, drop.outs);
        const listed = await server.cli(["list"]);
        expect(listed).toContain("tiny-keep:latest");
        expect(listed).not.toContain("tiny-drop:latest");
        // Deleting again (already gone) is fine.
        await provider.delete(drop.id, drop.outs);
    });

    test("the provider as the engine loads it: serialized by Pulumi, run in a fresh Node process", async () => {
        const serialized = await pulumi.runtime.serializeFunction(() => modelThroughputProvider);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-dynamic-"));
        const mod = path.join(dir, "provider.js");
        fs.writeFileSync(mod, serialized.text);
        const script = [
            `const provider = require(${JSON.stringify(mod)}).${serialized.exportName}();`,
            `provider.create(JSON.parse(process.argv[1]))`,
            `  .then((r) => console.log(JSON.stringify(r)))`,
            `  .catch((e) => { console.error(e.message); process.exit(1); });`,
        ].join("\n");
        const { stdout, stderr } = await promisify(execFile)(
            process.execPath,
            ["-e", script, JSON.stringify(short())],
            {
                // As in the dynamic provider host: node_modules of the project resolve `ollama`.
                env: { ...process.env, NODE_PATH: path.join(__dirname, "..", "..", "node_modules") },
            },
        );
        fs.rmSync(dir, { recursive: true, force: true });
        const { id, outs } = JSON.parse(stdout) as { id: string; outs: Record<string, unknown> };
        expect(id).toBe(`${server.endpoint}#tiny:latest`);
        expect(outs).toMatchObject({
            passed: true,
            model: "tiny",
            minTokensPerSecond: 1,
            requiredTokensPerSecond: 1,
            residency: "cpu",
        });
        expect(stderr).toContain(`ollama gate: measuring tiny on cpu0: 1 warm-up and 1 run of 4 tokens`);
    });
});
