// The GPU bench's parts that need no GPU: the F16 model writer (its shape and a valid GGUF), the
// report's checks (a good run passes them; each way a run can go wrong is named), and the options.
// The whole bench runs on the CPU in CI: `bash bench/gpu/run.sh --cpu` (.ci/run).

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { halves, tensorInfos, toHalf, weightBytes, writeF16Model } from "../../bench/gpu/f16Model";
import { BenchReport, checkReport, GateOutcome, summaryTable } from "../../bench/gpu/report";
import { parseArgs } from "../../bench/gpu/bench";
import { validator } from "../helpers/sandbox";

const PROJECT_DIR = path.join(__dirname, "..", "..");

test("half precision: exact values, rounding, subnormals, overflow", () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(0.5)).toBe(0x3800);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(toHalf(2 ** -24)).toBe(0x0001); // the smallest subnormal
    expect(toHalf(2 ** -15)).toBe(0x0200);
    expect(toHalf(0)).toBe(0);
    expect(halves(new Float32Array([1, -2]))).toEqual(Buffer.from([0x00, 0x3c, 0x00, 0xc0]));
});

test("the 7B shape is the probe's 6.5B, 12.96 GB of F16 weights; 8 layers are 3.24 GB", () => {
    const infos = tensorInfos({ width: 4096, layers: 32 });
    expect(infos.find((t) => t.name === "blk.0.ffn_up.weight")?.dims).toEqual([4096, 11008]);
    expect(infos).toHaveLength(3 + 32 * 9);
    expect(weightBytes({ width: 4096, layers: 32 }) / 1e9).toBeCloseTo(12.96, 2);
    expect(weightBytes({ width: 4096, layers: 8 }) / 1e9).toBeCloseTo(3.24, 2);
});

test("the written file is a GGUF v3 whose size is its header plus its tensors", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "f16-"));
    try {
        const file = path.join(dir, "m.gguf");
        const size = writeF16Model(file, { width: 128, layers: 2 });
        const buf = fs.readFileSync(file);
        expect(buf.length).toBe(size);
        expect(buf.subarray(0, 4).toString("ascii")).toBe("GGUF");
        expect(buf.readUInt32LE(4)).toBe(3);
        expect(Number(buf.readBigUInt64LE(8))).toBe(3 + 2 * 9);
        const data = weightBytes({ width: 128, layers: 2 });
        expect(size - data).toBeGreaterThan(0);
        expect((size - data) % 32).toBe(0);
        // Deterministic: the same seed writes the same bytes.
        writeF16Model(`${file}.2`, { width: 128, layers: 2 });
        expect(fs.readFileSync(`${file}.2`).equals(buf)).toBe(true);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

const figures = { tokensPerSecond: 143, slowestTokensPerSecond: 142, runsTokensPerSecond: [143, 142, 144] };
const pass: GateOutcome = {
    expect: "pass",
    minTokensPerSecond: 50,
    minEfficiency: 0.25,
    requireGpu: true,
    passed: true,
    message: "ok",
    figures: {
        ...figures,
        ceilingTokensPerSecond: 3350e9 / 12.96e9,
        efficiencyPercent: (100 * 143) / (3350e9 / 12.96e9),
        residency: "gpu",
        modelBytes: 12.96e9,
        size: 15.12e9,
        sizeVram: 15.12e9,
        loadMs: 3700,
        wallMs: 9000,
    },
};
const failed = (expect: GateOutcome["expect"], message: string): GateOutcome => ({
    expect,
    minTokensPerSecond: 517,
    requireGpu: true,
    passed: false,
    message,
});
const good = (): BenchReport =>
    structuredClone<BenchReport>({
        kind: "ai-dualstack gpu bench",
        mode: "gpu",
        startedAt: "2026-11-27T00:00:00.000Z",
        gpu: { name: "h100", model: "NVIDIA H100 80GB HBM3", vramGiB: 80, memoryBandwidthGBs: 3350 },
        ollamaVersion: "0.11.4",
        numPredict: 256,
        runs: 3,
        buildSeconds: 160,
        wallSeconds: 300,
        limitSeconds: 480,
        models: [
            {
                name: "bench-4096x32",
                width: 4096,
                layers: 32,
                ff: 11008,
                fileBytes: 12.96e9 - 1000,
                writeSeconds: 10,
                createSeconds: 30,
                evalCount: 256,
                gates: [
                    pass,
                    failed(
                        "too-slow",
                        "too slow, measured 143 ... The requirement is above what the card's memory bandwidth allows",
                    ),
                    failed(
                        "below-roofline",
                        "too slow, measured 143 tokens/s, required 258.5 tokens/s (100% of the card's ceiling)",
                    ),
                ],
            },
        ],
        problems: [],
    });

test("a good GPU run passes every check, and its table has the figures", () => {
    expect(checkReport(good())).toEqual([]);
    expect(summaryTable(good())).toContain(
        "| bench-4096x32 (4096 wide, 32 layers) | 12.96 GB | 143.0 (142.0) | 258.5 | 55.3% | 15.12 / 15.12 GB | 3.7 s |",
    );
});

test("each way a run goes wrong is named", () => {
    const cases: [string, (r: BenchReport) => void, RegExp][] = [
        ["slow", (r) => (r.wallSeconds = 500), /over the 480 s limit/],
        ["early stop", (r) => (r.models[0]!.evalCount = 40), /generated 40 of 256 tokens/],
        ["partial", (r) => (r.models[0]!.gates[0]!.figures!.sizeVram = 1e9), /not wholly in VRAM/],
        ["pass failed", (r) => (r.models[0]!.gates[0]!.passed = false), /the passing threshold failed/],
        ["fail passed", (r) => (r.models[0]!.gates[1]!.passed = true), /expected a too-slow failure, got: a pass/],
        ["wrong cause", (r) => (r.models[0]!.gates[2]!.message = "CPU fallback"), /expected a below-roofline failure/],
        [
            "ceiling",
            (r) => (r.models[0]!.gates[0]!.figures!.ceilingTokensPerSecond = 300),
            /not bandwidth \/ model bytes/,
        ],
        ["missing run", (r) => r.models[0]!.gates.pop(), /gate runs pass,too-slow, expected/],
        ["no model", (r) => (r.models = []), /no model was measured/],
    ];
    for (const [, spoil, problem] of cases) {
        const r = good();
        spoil(r);
        expect(checkReport(r).join("\n")).toMatch(problem);
    }
});

test("options: the GPU and the CPU defaults, and refusals", () => {
    expect(parseArgs(["--ollama", "o", "--out", "d"])).toMatchObject({
        cpu: false,
        models: [
            { width: 4096, layers: 8 },
            { width: 4096, layers: 32 },
        ],
        tokens: 256,
        runs: 3,
        passTps: 50,
        passEff: 0.25,
        limitSeconds: 480,
    });
    expect(parseArgs(["--cpu", "--ollama", "o", "--out", "d"])).toMatchObject({ cpu: true, bandwidth: 100, runs: 2 });
    expect(parseArgs(["--help"])).toBe("help");
    expect(() => parseArgs(["--ollama", "o"])).toThrow("--ollama and --out are required");
    expect(() => parseArgs(["--ollama", "o", "--out", "d", "--models", "4096"])).toThrow("WIDTHxLAYERS");
    expect(() => parseArgs(["--bogus", "1"])).toThrow("unknown option");
});

const shellcheck = validator("shellcheck");
const scripts = ["bench/gpu/stage.sh", "bench/gpu/run.sh"];

(shellcheck ? test : test.skip)("the scripts pass shellcheck", () => {
    execFileSync(shellcheck as string, ["--severity=style", ...scripts], { cwd: PROJECT_DIR, encoding: "utf8" });
});

test.each(scripts)("%s has --help", (script) => {
    const help = execFileSync("bash", [script, "--help"], { cwd: PROJECT_DIR, encoding: "utf8" });
    expect(help).toMatch(/^Usage: bash bench\/gpu\//m);
});

test("run.sh refuses to start without --out, or with nothing staged, saying what to do", () => {
    const run = (...args: string[]) =>
        spawnSync("bash", ["bench/gpu/run.sh", ...args], {
            cwd: PROJECT_DIR,
            encoding: "utf8",
            env: { PATH: process.env["PATH"] ?? "" },
        });
    expect(run().stderr).toContain("--out DIR is required (such as --out ./gpu-bench-out)");
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "stage-"));
    try {
        const r = run("--out", path.join(empty, "out"), "--stage", empty);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(
            "run bash bench/gpu/stage.sh first (docs/gpu-bench.md), and bring dist/gpu-bench to this machine",
        );
    } finally {
        fs.rmSync(empty, { recursive: true, force: true });
    }
});
