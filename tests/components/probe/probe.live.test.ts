// The continuous probe against a real Ollama (built by .ci/ollama.sh) on 127.0.0.1 serving the tiny
// model: the probe program itself (python3, as the VM runs it) and the deploy-time gate (runGate) go
// through one recording proxy, so the test sees that both send the same requests; the probe's spec
// carries the rate the gate required and its ceiling, as the stack writes them from the gate's
// outputs; the probe's figures are checked against the gate's own maths (measure.ts) on Ollama's raw
// timings the probe reports; and its textfile passes `promtool check metrics`.

import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { GATE_DEFAULTS } from "../../../config/schema";
import { canonicalName } from "../../../lib/modelRef";
import { efficiencyPercent, GenerationTimings, residencyOf, summarize } from "../../../providers/ollama/measure";
import { runGate } from "../../../providers/ollama/runGate";
import { GateSettings } from "../../../config/schema";
import { GateRequirement, ProbeSpec, probeSpec } from "../../../components/probe/spec";
import { findOllama, freePort, OllamaServer, startOllama, TEST_THREADS } from "../../../testing/ollamaServer";
import { findTool, parseMetrics, PROGRAM_FILE } from "./helpers";

const bin = findOllama();
if (!bin && process.env["CI"]) throw new Error("no ollama binary: .ci/run builds it with .ci/ollama.sh");
if (!bin) console.warn("ollama not found: the probe's integration tests are skipped (`bash .ci/ollama.sh` builds it)");
const promtool = findTool("promtool", "prometheus");
const run = promisify(execFile);
jest.setTimeout(240_000);

const CPU = { name: "cpu0", memoryBandwidthGBs: 20 };
/**
 * A threshold the roofline share outweighs: any model under 20 GB has a ceiling over 1 token/s on
 * this card, so the gate requires 0.1% of it, not the 0.001 tokens/s.
 */
const TINY = { name: "tiny", minTokensPerSecond: 0.001, minEfficiency: 0.001, removeOnDelete: false };
const SETTINGS: GateSettings = {
    ...GATE_DEFAULTS,
    numPredict: 32,
    runs: 3,
    requireGpu: false,
    timeoutSeconds: 120,
    stallSeconds: 30,
    attempts: 2,
    backoffMs: 50,
};

interface Recorded {
    method: string;
    url: string;
    body: unknown;
}

/** A proxy in front of Ollama that records every request (method, path, JSON body). */
async function recordingProxy(target: string): Promise<{ url: string; seen: Recorded[]; close(): Promise<void> }> {
    const seen: Recorded[] = [];
    const to = new URL(target);
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const raw = Buffer.concat(chunks);
            seen.push({
                method: req.method ?? "",
                url: req.url ?? "",
                body: raw.length ? JSON.parse(raw.toString()) : undefined,
            });
            const up = http.request(
                { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
                (answer) => {
                    res.writeHead(answer.statusCode ?? 502, answer.headers);
                    answer.pipe(res);
                },
            );
            up.on("error", () => res.destroy());
            up.end(raw);
        });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    return {
        url: `http://127.0.0.1:${port}`,
        seen,
        close: () => new Promise((r) => server.close(() => r())),
    };
}

(bin ? describe : describe.skip)("the throughput probe against a real Ollama", () => {
    let server: OllamaServer;
    let dir: string;

    beforeAll(async () => {
        server = await startOllama(bin as string);
        await server.createTinyModel("tiny", { threads: TEST_THREADS });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-probe-"));
    }, 120_000);
    afterAll(async () => {
        await server?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** The spec of the model "tiny", with what the gate recorded for it (a stand-in unless given). */
    const spec = (url: string, gated: GateRequirement = { requiredTokensPerSecond: 1, ceilingTokensPerSecond: 0 }) => ({
        ...probeSpec(
            {
                vm: "test-vm",
                gpu: CPU,
                address: "127.0.0.1",
                services: { ollama: { ports: [] } },
                models: [TINY],
                settings: SETTINGS,
                probe: { enabled: true, intervalMinutes: 60, textfileDirectory: dir },
            },
            { tiny: gated },
        ),
        ollama: { url },
    });

    /** Runs the probe program as the timer does; returns its exit status, textfile and report. */
    async function probe(s: ProbeSpec, name: string, env: NodeJS.ProcessEnv = process.env) {
        const specFile = path.join(dir, `${name}.json`);
        const textfile = path.join(dir, `${name}.prom`);
        const report = path.join(dir, `${name}.report.json`);
        fs.writeFileSync(specFile, JSON.stringify(s));
        const args = [PROGRAM_FILE, "--spec", specFile, "--textfile", textfile, "--report", report];
        const status = await run("python3", args, { env }).then(
            () => 0,
            (e: { code?: number }) => e.code ?? -1,
        );
        return {
            status,
            text: fs.readFileSync(textfile, "utf8"),
            report: JSON.parse(fs.readFileSync(report, "utf8")) as {
                results: { model: string; error?: string; raw?: Raw }[];
            },
        };
    }

    test("sends the gate's own requests, and its figures are the gate's maths on Ollama's timings", async () => {
        const proxy = await recordingProxy(server.endpoint);
        try {
            const gate = await runGate(
                {
                    endpoint: proxy.url,
                    model: "tiny",
                    gpu: { ...CPU, model: "test CPU", vramGiB: 0 },
                    minTokensPerSecond: TINY.minTokensPerSecond,
                    minEfficiency: TINY.minEfficiency,
                    ...SETTINGS,
                },
                { allowPull: false, log: () => undefined },
            );
            const gateCalls = proxy.seen.splice(0);
            // What the stack writes into the spec from the gate's outputs (stacks/probes.ts).
            const gated = {
                requiredTokensPerSecond: gate.requiredTokensPerSecond,
                ceilingTokensPerSecond: gate.ceilingTokensPerSecond,
            };
            const out = await probe(spec(proxy.url, gated), "same");
            const probeCalls = proxy.seen.splice(0);

            expect(out.status).toBe(0);
            // The same calls in the same order: list, one warm-up and `runs` generations, ps.
            const route = (c: Recorded) => `${c.method} ${c.url}`;
            expect(probeCalls.map(route)).toEqual(gateCalls.map(route));
            expect(probeCalls.map(route)).toEqual([
                "GET /api/tags",
                ...Array<string>(SETTINGS.runs + 1).fill("POST /api/generate"),
                "GET /api/ps",
            ]);
            const bodies = (cs: Recorded[]) => cs.filter((c) => c.url === "/api/generate").map((c) => c.body);
            expect(bodies(probeCalls)).toEqual(bodies(gateCalls));
            expect(bodies(probeCalls)[0]).toEqual({
                model: "tiny",
                prompt: GATE_DEFAULTS.prompt,
                stream: true,
                options: { temperature: 0, seed: 42, num_predict: 32 },
            });

            // The gate's maths on the raw timings the probe saw gives exactly the probe's figures.
            const raw = out.report.results[0]?.raw as Raw;
            expect(raw.runs).toHaveLength(SETTINGS.runs);
            for (const r of raw.runs) expect(r.eval_count).toBe(32);
            const summary = summarize(
                raw.warmup,
                raw.runs.map((r) => ({ ...r, timeToFirstTokenMs: 0 })),
            );
            const m = parseMetrics(out.text);
            const at = { model: "tiny", gpu: "cpu0", vm: "test-vm" };
            expect(m.value("aidualstack_model_tokens_per_second", at)).toBe(summary.tokensPerSecond);
            expect(m.value("aidualstack_model_roofline_efficiency", at)).toBeCloseTo(
                efficiencyPercent(summary.tokensPerSecond, gate.ceilingTokensPerSecond) / 100,
                12,
            );
            // A CPU server: nothing in VRAM, as the gate's residency says.
            expect(residencyOf(raw.size, raw.sizeVram)).toBe(gate.residency);
            expect(m.value("aidualstack_model_in_vram", at)).toBe(gate.residency === "gpu" ? 1 : 0);
            // The probe's threshold is the rate the gate required: here the roofline share, not the floor.
            expect(gate.requiredTokensPerSecond).toBe(TINY.minEfficiency * gate.ceilingTokensPerSecond);
            expect(gate.requiredTokensPerSecond).toBeGreaterThan(TINY.minTokensPerSecond);
            expect(m.value("aidualstack_model_min_tokens_per_second", at)).toBe(gate.requiredTokensPerSecond);
            expect(m.value("aidualstack_model_probe_success", at)).toBe(1);
            const stamp = m.value("aidualstack_model_probe_last_run_timestamp_seconds", at);
            expect(Math.abs(stamp - Date.now() / 1000)).toBeLessThan(120);
            // A run that measured the model is its last success too (the stale alert reads that).
            expect(m.value("aidualstack_model_probe_last_success_timestamp_seconds", at)).toBe(stamp);
            // The same weights the gate divided by; the rate of one server and request, twice.
            expect(raw.modelBytes).toBe(gate.modelBytes);
            expect(summary.tokensPerSecond / gate.tokensPerSecond).toBeGreaterThan(0.2);
            expect(summary.tokensPerSecond / gate.tokensPerSecond).toBeLessThan(5);
            await promtoolAccepts(out.text);
        } finally {
            await proxy.close();
        }
    });

    test("a model that is gone: success 0 and the threshold, no stale figure; the probe never pulls", async () => {
        const proxy = await recordingProxy(server.endpoint);
        try {
            const s = spec(proxy.url);
            s.models.push({
                ...(s.models[0] as ProbeSpec["models"][number]),
                name: "gone:1b",
                requiredTokensPerSecond: 7,
            });
            const out = await probe(s, "gone");
            expect(out.status).toBe(1);
            expect(proxy.seen.map((c) => c.url)).not.toContain("/api/pull");
            const m = parseMetrics(out.text);
            const gone = { model: "gone:1b", gpu: "cpu0", vm: "test-vm" };
            expect(m.value("aidualstack_model_probe_success", gone)).toBe(0);
            expect(m.value("aidualstack_model_min_tokens_per_second", gone)).toBe(7);
            expect(m.has("aidualstack_model_tokens_per_second", gone)).toBe(false);
            expect(m.has("aidualstack_model_in_vram", gone)).toBe(false);
            expect(out.report.results[1]?.error).toMatch(
                /model gone:1b is not on http:\/\/127\.0\.0\.1:\d+; run `pulumi up`/,
            );
            // The other model is still measured.
            expect(m.value("aidualstack_model_probe_success", { ...gone, model: "tiny" })).toBe(1);
            await promtoolAccepts(out.text);
        } finally {
            await proxy.close();
        }
    });

    test("Ollama down: every model success 0 after the configured tries; the file is still replaced whole", async () => {
        const closed = `http://127.0.0.1:${await freePort()}`;
        const out = await probe(spec(closed), "down");
        expect(out.status).toBe(1);
        const m = parseMetrics(out.text);
        expect(m.value("aidualstack_model_probe_success", { model: "tiny", gpu: "cpu0", vm: "test-vm" })).toBe(0);
        expect(out.report.results[0]?.error).toMatch(/after 2 tries/);
        await promtoolAccepts(out.text);
        // Written through a temporary file and a rename: nothing else is left in the folder.
        expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
        expect(fs.statSync(path.join(dir, "down.prom")).mode & 0o777).toBe(0o644);
    });

    test("public VMs: Ollama found as its container on the compose network (docker inspect)", async () => {
        const port = new URL(server.endpoint).port;
        // A stand-in for `docker inspect`: the one Docker call the probe makes, answered with loopback.
        const stub = path.join(dir, "stub-bin");
        fs.mkdirSync(stub, { recursive: true });
        const inspect = JSON.stringify({ "public-ai": { IPAddress: "127.0.0.1" } });
        fs.writeFileSync(
            path.join(stub, "docker"),
            `#!/bin/sh\n[ "$1 $4" = "inspect ollama" ] || exit 1\necho '${inspect}'\n`,
            { mode: 0o755 },
        );
        const s = { ...spec(""), ollama: { container: "ollama", port: Number(port) } };
        const out = await probe(s, "container", { ...process.env, PATH: `${stub}:${process.env["PATH"]}` });
        expect(out.status).toBe(0);
        expect(
            parseMetrics(out.text).value("aidualstack_model_probe_success", {
                model: "tiny",
                gpu: "cpu0",
                vm: "test-vm",
            }),
        ).toBe(1);
    });

    test("model names compare as the gate compares them (lib/modelRef canonicalName)", async () => {
        const names = [
            "Qwen2.5",
            "qwen2.5:14b",
            "registry.ollama.ai/library/mistral:7b",
            "library/tiny",
            "me/model",
            "host:5000/ns/m",
        ];
        const code = `import importlib.util, json, sys; sys.dont_write_bytecode = True
spec = importlib.util.spec_from_file_location("probe", sys.argv[1]); p = importlib.util.module_from_spec(spec); spec.loader.exec_module(p)
print(json.dumps([p.canonical_name(n) for n in json.loads(sys.argv[2])]))`;
        const { stdout } = await run("python3", ["-c", code, PROGRAM_FILE, JSON.stringify(names)]);
        expect(JSON.parse(stdout)).toEqual(names.map(canonicalName));
    });

    async function promtoolAccepts(text: string): Promise<void> {
        if (!promtool) return;
        const file = path.join(dir, "check.prom");
        fs.writeFileSync(file, text);
        // promtool reads the exposition from stdin and prints every lint problem; none is allowed.
        const { stdout, stderr } = await run("bash", ["-c", `"$0" check metrics < "$1"`, promtool, file]);
        expect(stdout + stderr).toBe("");
    }
});

interface Raw {
    warmup: GenerationTimings;
    runs: GenerationTimings[];
    modelBytes: number;
    size: number;
    sizeVram: number;
}
