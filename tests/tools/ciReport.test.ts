// tools/ciReport.ts: the gate's job-summary table from recorded stack outputs, and the drift check's verdict
// (names, metric file, exit status) from recorded refreshing previews.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { driftMetric, driftedResources, gateSummary, main } from "../../tools/ciReport";

const URN =
    "urn:pulumi:private::ai-dualstack::ai-dualstack:gpuVm:GpuPassthroughVm$proxmoxve:index/vmLegacy:VmLegacy::private-ai";

test("the gate's table: one row per model, measured against required, failing below it", () => {
    const outputs = {
        vms: {
            "private-ai": {
                throughput: [
                    { model: "qwen2.5:14b", gpu: "RTX 5090", minTokensPerSecond: 50, tokensPerSecond: 61.23 },
                    { model: "qwen2.5:32b", gpu: "RTX 5090", minTokensPerSecond: 30, tokensPerSecond: 12 },
                ],
            },
        },
    };
    expect(gateSummary("private", outputs).split("\n")).toEqual([
        "### Throughput gate: private",
        "",
        "| VM | model | GPU | measured tokens/s | required tokens/s | gate |",
        "| --- | --- | --- | --- | --- | --- |",
        "| private-ai | qwen2.5:14b | RTX 5090 | 61.2 | 50 | passed |",
        "| private-ai | qwen2.5:32b | RTX 5090 | 12.0 | 30 | FAILED |",
        "",
    ]);
    expect(gateSummary("public", { vms: {} })).toBe(
        "### Throughput gate: public\n\nNo model is gated in this stack.\n",
    );
});

test("the read-only run's own credentials are no drift: a provider's apiToken/ssh, a command's connection", () => {
    const provider = "urn:pulumi:private::ai-dualstack::pulumi:providers:proxmoxve::private-pve1-provider";
    const cmd =
        "urn:pulumi:private::ai-dualstack::ai-dualstack:host:ProxmoxHost$command:remote:Command::private-pve1-bootstrap";
    expect(
        driftedResources({
            steps: [
                { op: "update", urn: provider, diffReasons: ["apiToken", "ssh"] },
                { op: "update", urn: cmd, detailedDiff: { "connection.privateKey": {} } },
            ],
        }),
    ).toEqual([]);
    // Beside anything else, or on another type, it is drift.
    expect(
        driftedResources({
            steps: [
                { op: "update", urn: provider, diffReasons: ["apiToken", "endpoint"] },
                { op: "update", urn: cmd, detailedDiff: { connection: {}, stdin: {} } },
                { op: "update", urn: URN, diffReasons: ["connection"] },
                { op: "replace", urn: `${cmd}2`, diffReasons: ["connection"] },
            ],
        }).map((d) => `${d.name} ${d.properties.join(",")}`),
    ).toEqual([
        "private-pve1-provider apiToken,endpoint",
        "private-pve1-bootstrap connection,stdin",
        "private-ai connection",
        "private-pve1-bootstrap2 connection",
    ]);
});

test("drift: every step but same/read/refresh, once per resource, with its type and properties", () => {
    const preview = {
        steps: [
            { op: "same", urn: `${URN}-other` },
            { op: "update", urn: URN, diffReasons: ["memory", "__meta"] },
            { op: "update", urn: URN },
            { op: "refresh", urn: `${URN}-r` },
        ],
    };
    expect(driftedResources(preview)).toEqual([
        { name: "private-ai", type: "proxmoxve:index/vmLegacy:VmLegacy", op: "update", properties: ["memory"] },
    ]);
    expect(driftMetric("private", 1)).toContain('\naidualstack_drift_resources{stack="private"} 1\n');
});

describe("ci-report drift", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-drift-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function run(steps: unknown): Promise<{ code: number; out: string; metric?: string; summary: string }> {
        const input = path.join(dir, "preview.json");
        fs.writeFileSync(input, JSON.stringify(steps));
        const logs: string[] = [];
        const spy = jest.spyOn(console, "log").mockImplementation((m: string) => void logs.push(m));
        const err = jest.spyOn(console, "error").mockImplementation((m: string) => void logs.push(m));
        try {
            const summary = path.join(dir, "summary.md");
            const code = await main([
                "drift",
                "private",
                input,
                "--metrics-dir",
                path.join(dir, "m"),
                "--summary",
                summary,
            ]);
            const file = path.join(dir, "m", "private.prom");
            return {
                code,
                out: logs.join("\n"),
                ...(fs.existsSync(file) ? { metric: fs.readFileSync(file, "utf8") } : {}),
                summary: fs.existsSync(summary) ? fs.readFileSync(summary, "utf8") : "",
            };
        } finally {
            spy.mockRestore();
            err.mockRestore();
        }
    }

    test("drift fails, names the resource and writes its count", async () => {
        const r = await run({ steps: [{ op: "update", urn: URN, diffReasons: ["memory"] }] });
        expect(r.code).toBe(1);
        expect(r.out).toBe("DRIFT in private: proxmoxve:index/vmLegacy:VmLegacy private-ai would be updated (memory)");
        expect(r.metric).toBe(driftMetric("private", 1));
        expect(r.summary).toBe(
            "### Drift: private\n\n- DRIFT in private: proxmoxve:index/vmLegacy:VmLegacy private-ai would be updated (memory)\n",
        );
    });

    test("no drift passes and writes 0", async () => {
        const r = await run({ steps: [{ op: "same", urn: URN }] });
        expect(r.code).toBe(0);
        expect(r.metric).toBe(driftMetric("private", 0));
    });

    test("a preview that failed before planning fails, and leaves the last metric alone", async () => {
        const r = await run({ diagnostics: [{ message: "cannot log in" }] });
        expect(r.code).toBe(1);
        expect(r.metric).toBeUndefined();
        expect(r.out).toContain("holds no preview");
    });
});
