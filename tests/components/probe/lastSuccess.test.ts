// The probe's last success, which the stale alert reads: a run that fails writes its own time as the last run, and
// keeps the last success the previous run wrote (0 when there was none). Run as the timer runs the program, against
// an Ollama that is down; tests/components/probe/probe.live.test.ts checks a success stamps it.

import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { GATE_DEFAULTS } from "../../../config/schema";
import { probeSpec } from "../../../components/probe/spec";
import { freePort } from "../../../testing/ollamaServer";
import { parseMetrics, PROGRAM_FILE } from "./helpers";

const run = promisify(execFile);
const AT = { model: "tiny:latest", gpu: "cpu0", vm: "test-vm" };
const LABELS = 'model="tiny:latest",gpu="cpu0",vm="test-vm"';

describe("the probe's last success", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-probe-success-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Runs the probe once against a closed port, with `previous` as the textfile a run before wrote. */
    async function failingRun(previous?: string) {
        const spec = {
            ...probeSpec(
                {
                    vm: "test-vm",
                    gpu: { name: "cpu0", memoryBandwidthGBs: 20 },
                    address: "127.0.0.1",
                    services: { ollama: { ports: [] } },
                    models: [{ name: "tiny:latest", minTokensPerSecond: 1, removeOnDelete: false }],
                    settings: { ...GATE_DEFAULTS, attempts: 1, backoffMs: 10, timeoutSeconds: 5 },
                    probe: { enabled: true, intervalMinutes: 60, textfileDirectory: dir },
                },
                { "tiny:latest": { requiredTokensPerSecond: 1, ceilingTokensPerSecond: 0 } },
            ),
            ollama: { url: `http://127.0.0.1:${await freePort()}` },
        };
        const specFile = path.join(dir, "spec.json");
        const textfile = path.join(dir, "probe.prom");
        fs.writeFileSync(specFile, JSON.stringify(spec));
        if (previous !== undefined) fs.writeFileSync(textfile, previous);
        const before = Date.now() / 1000;
        const status = await run("python3", [PROGRAM_FILE, "--spec", specFile, "--textfile", textfile]).then(
            () => 0,
            (err: { code?: number }) => err.code ?? -1,
        );
        return { status, before, metrics: parseMetrics(fs.readFileSync(textfile, "utf8")) };
    }

    test("a failing run keeps the previous run's last success, and moves its last run", async () => {
        const previous = [
            "# TYPE aidualstack_model_probe_last_success_timestamp_seconds gauge",
            `aidualstack_model_probe_last_success_timestamp_seconds{${LABELS}} 1764900000.5`,
            `aidualstack_model_probe_last_success_timestamp_seconds{model="other",gpu="cpu0",vm="test-vm"} 17.0`,
            "",
        ].join("\n");
        const { status, before, metrics } = await failingRun(previous);
        expect(status).toBe(1);
        expect(metrics.value("aidualstack_model_probe_success", AT)).toBe(0);
        expect(metrics.value("aidualstack_model_probe_last_success_timestamp_seconds", AT)).toBe(1764900000.5);
        expect(metrics.value("aidualstack_model_probe_last_run_timestamp_seconds", AT)).toBeGreaterThanOrEqual(
            Math.floor(before),
        );
        // Only this spec's models: a model it no longer probes is not carried on.
        expect(metrics.has("aidualstack_model_probe_last_success_timestamp_seconds", { model: "other" })).toBe(false);
    });

    test("a probe that never succeeded says 0", async () => {
        const { metrics } = await failingRun();
        expect(metrics.value("aidualstack_model_probe_last_success_timestamp_seconds", AT)).toBe(0);
        // And again, from the file its own failing run wrote.
        expect(
            (await failingRun(undefined)).metrics.value("aidualstack_model_probe_last_success_timestamp_seconds", AT),
        ).toBe(0);
    });
});
