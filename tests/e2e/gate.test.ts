// The throughput gate under the real engine: the ThroughputGate component and its dynamic
// ModelThroughput resource, run by `pulumi up` against a real Ollama on 127.0.0.1 serving the tiny
// model. A pass converges (a clean preview after it); a raised threshold fails the next up with the
// gate's whole message and leaves the state consistent; `refresh` measures again.

import * as pulumi from "@pulumi/pulumi";
import { ThroughputGate } from "../../components/gate/throughputGate";
import { GATE_DEFAULTS } from "../../config/schema";
import { EngineStack, failureOf } from "../../testing/engine";
import { engineToolchain } from "../../testing/engineToolchain";
import { findOllama, OllamaServer, startOllama, TEST_THREADS } from "../../testing/ollamaServer";

const toolchain = engineToolchain();
const bin = findOllama();
if (!bin && process.env["CI"]) throw new Error("no ollama binary: .ci/run builds it with .ci/ollama.sh");
const CPU = { name: "cpu0", model: "test CPU (no GPU)", vramGiB: 0, memoryBandwidthGBs: 20 };

jest.setTimeout(300_000);

/** One gated model on the CPU "card"; the threshold comes from the stack's config. */
function program(endpoint: string) {
    return () => {
        const cfg = new pulumi.Config();
        const gate = new ThroughputGate("e2e-gate", {
            vmName: "e2e",
            gpu: CPU,
            endpoint,
            models: [{ name: "tiny", minTokensPerSecond: cfg.requireNumber("threshold"), removeOnDelete: false }],
            settings: {
                ...GATE_DEFAULTS,
                numPredict: 32,
                runs: 2,
                requireGpu: false,
                timeoutSeconds: 120,
                stallSeconds: 30,
                attempts: 2,
                backoffMs: 50,
            },
            dependsOn: [],
        });
        const [figures] = gate.figures;
        // The rate the gate required, as its output records it (what the probe's spec carries).
        return { tokensPerSecond: figures?.tokensPerSecond, required: gate.models["tiny"]?.requiredTokensPerSecond };
    };
}

(toolchain && bin ? describe : describe.skip)("the throughput gate under the real engine", () => {
    let server: OllamaServer;
    let engine: EngineStack;

    beforeAll(async () => {
        server = await startOllama(bin as string);
        await server.createTinyModel("tiny", { threads: TEST_THREADS });
        engine = await EngineStack.create({
            toolchain: toolchain!,
            stackName: "gate",
            program: program(server.endpoint),
        });
    }, 180_000);

    afterAll(async () => {
        await engine?.dispose();
        await server?.stop();
    });

    test("a pass converges; a raised threshold fails with the gate's message; the old one passes again; refresh measures", async () => {
        await engine.setConfig({ threshold: 1 });
        const first = await engine.up();
        const measured = first.outputs["tokensPerSecond"] as number;
        expect(measured).toBeGreaterThan(1);
        expect(first.outputs["required"]).toBe(1);
        await engine.preview({ expectNoChanges: true });

        await engine.setConfig({ threshold: 1_000_000 });
        const failed = await failureOf(engine.up());
        // The gate's whole message: model, GPU, endpoint, the measured and the required figure, the cause.
        expect(failed.message).toMatch(
            new RegExp(
                `model tiny on GPU cpu0 \\(test CPU \\(no GPU\\), 0 GiB\\) at ${server.endpoint.replace(/\./g, "\\.")}: too slow, measured [\\d.]+ tokens/s \\(median, slowest [\\d.]+\\), required 1000000\\.0 tokens/s`,
            ),
        );
        // The state still holds the last good measurement: the stack outputs are those of the pass.
        expect((await engine.stack.outputs())["required"]?.value).toBe(1);

        await engine.setConfig({ threshold: 1 });
        const again = await engine.up();
        expect(again.outputs["required"]).toBe(1);
        // refresh measures again: one warm-up and the two runs reach the server.
        const generations = () => server.log().match(/"\/api\/generate"/g)?.length ?? 0;
        const before = generations();
        await engine.refresh();
        await new Promise((r) => setTimeout(r, 300)); // the access log line follows the reply
        expect(generations() - before).toBe(3);
    });
});
