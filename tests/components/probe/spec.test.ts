// The probe's systemd units (checked by systemd-analyze verify), its install and removal scripts
// (shellcheck, then run for real by bash in a fake root with a stand-in systemctl), and the config
// rule that makes node-exporter read the probe's folder.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { XID_TEXTFILE } from "../../../components/monitoring/scripts";
import { containerPathOf, isNodeExporter } from "../../../config/rules/probe";
import {
    describeProbe,
    PROGRAM,
    ProbeSpec,
    probeSpec,
    renderInstallScript,
    renderRemoveScript,
    renderServiceUnit,
    renderTimerUnit,
    runLimitSeconds,
} from "../../../components/probe/spec";
import { stackModel } from "../../helpers/config";
import { findTool } from "./helpers";

const systemdAnalyze = findTool("systemd-analyze", "systemd");
const shellcheck = findTool("shellcheck", "shellcheck");
const UNIT = "aidualstack-throughput-probe";

function privateSpec(intervalMinutes = 60): {
    spec: ProbeSpec;
    probe: NonNullable<ReturnType<typeof stackModel>["vms"][number]["probe"]>;
    args: Parameters<typeof probeSpec>[0];
} {
    const vm = stackModel("private").vms.find((v) => v.name === "private-ai");
    if (!vm?.probe || !vm.gate || !vm.gpu || !vm.network.address) throw new Error("private-ai has no probe");
    const probe = { ...vm.probe, intervalMinutes };
    const args = {
        vm: vm.name,
        gpu: vm.gpu,
        address: vm.network.address.ip,
        services: vm.services,
        models: vm.models,
        settings: vm.gate,
        probe,
    };
    const gated = Object.fromEntries(vm.models.map((m) => [m.name, GATED]));
    return { spec: probeSpec(args, gated), probe, args };
}

/** What a gate could have recorded: a required rate above the threshold (minEfficiency won), its ceiling. */
const GATED = { requiredTokensPerSecond: 61.5, ceilingTokensPerSecond: 123 };

describe("spec", () => {
    test("each model carries the rate the gate required and its ceiling, as the gate recorded them", () => {
        const { spec } = privateSpec();
        expect(spec.models).toEqual([
            {
                name: "qwen2.5:14b",
                requiredTokensPerSecond: 61.5,
                ceilingTokensPerSecond: 123,
                request: expect.objectContaining({ model: "qwen2.5:14b" }) as unknown,
            },
        ]);
        // Only the card's name: the probe works out no ceiling of its own.
        expect(spec.gpu).toEqual({ name: "rtx5090" });
    });

    test("a model the gate recorded nothing for is refused, by VM and model", () => {
        const { args } = privateSpec();
        expect(() => probeSpec(args, {})).toThrow("probe of private-ai: the gate recorded nothing for qwen2.5:14b");
    });

    test("the plan's line names the configured thresholds, not the gate's figures", () => {
        const { args } = privateSpec();
        expect(describeProbe(args)).toBe(
            "throughput probe (systemd timer, every 60 min): qwen2.5:14b (min 50 tokens/s) via http://10.10.10.10:11434, as the gate measures; metrics to /var/lib/ai-dualstack/textfile/aidualstack_throughput.prom for node-exporter",
        );
    });
});

describe("systemd units", () => {
    const { spec, probe } = privateSpec();
    const service = renderServiceUnit(spec, probe.textfileDirectory);
    const timer = renderTimerUnit(probe.intervalMinutes);

    test("the service runs the probe once, sandboxed, writing only its folder, within the gate's limits", () => {
        expect(service).toContain("Type=oneshot\n");
        expect(service).toContain(
            "ExecStart=/usr/bin/python3 /usr/local/lib/ai-dualstack/throughput-probe.py --spec /etc/ai-dualstack/throughput-probe.json\n",
        );
        expect(service).toContain(
            "ProtectSystem=strict\nProtectHome=read-only\nReadWritePaths=/var/lib/ai-dualstack/textfile\n",
        );
        // One model: a warm-up, 3 runs and the listings, each within the gate's 300 s.
        expect(runLimitSeconds(spec)).toBe(6 * 300 + 60);
        expect(service).toContain(`TimeoutStartSec=${6 * 300 + 60}\n`);
    });

    test("the timer: hourly by default, first run 10 min after boot", () => {
        expect(timer).toContain("OnBootSec=10min\nOnUnitActiveSec=60min\n");
        expect(timer).toContain(`Unit=${UNIT}.service\n`);
        expect(timer).toContain("WantedBy=timers.target\n");
    });

    (systemdAnalyze ? test : test.skip)("systemd-analyze verify accepts both, without a warning", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-units-"));
        try {
            fs.writeFileSync(path.join(dir, `${UNIT}.service`), service);
            fs.writeFileSync(path.join(dir, `${UNIT}.timer`), renderTimerUnit(15));
            const r = spawnSync(
                systemdAnalyze as string,
                ["verify", "--man=no", `${dir}/${UNIT}.timer`, `${dir}/${UNIT}.service`],
                {
                    encoding: "utf8",
                },
            );
            expect(r.stderr + r.stdout).toBe("");
            expect(r.status).toBe(0);
            // The check bites: a value systemd cannot parse is reported.
            fs.writeFileSync(path.join(dir, `${UNIT}.timer`), renderTimerUnit(15).replace("15min", "fifteen"));
            const bad = spawnSync(systemdAnalyze as string, ["verify", "--man=no", `${dir}/${UNIT}.timer`], {
                encoding: "utf8",
            });
            expect(bad.stderr).toMatch(/Failed to parse timer value/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

/** A fake VM root, a stand-in systemctl that logs its calls, and the scripts run by real bash. */
function sandbox() {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-probe-root-"));
    const bin = path.join(root, "stand-in-bin");
    const log = path.join(root, "calls.log");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "systemctl"), `#!/usr/bin/env bash\necho "systemctl $*" >> "${log}"\n`, {
        mode: 0o755,
    });
    return {
        root,
        file: (p: string) => path.join(root, p),
        run(script: string) {
            fs.rmSync(log, { force: true });
            const r = spawnSync("bash", ["-s"], {
                input: script,
                encoding: "utf8",
                env: { ...process.env, AIDS_ROOT: root, PATH: `${bin}:${process.env["PATH"]}` },
            });
            const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
            return { ...r, calls };
        },
        dispose: () => fs.rmSync(root, { recursive: true, force: true }),
    };
}

describe("install and removal scripts", () => {
    (shellcheck ? test : test.skip)("pass shellcheck as rendered", () => {
        const { spec, probe } = privateSpec();
        for (const script of [renderInstallScript(spec, probe), renderRemoveScript(probe)]) {
            execFileSync(shellcheck as string, ["-s", "bash", "-"], { input: script });
        }
    });

    test("install writes the four files, enables the timer and runs the probe once; again, it changes nothing", () => {
        const sb = sandbox();
        try {
            const { spec, probe } = privateSpec();
            const first = sb.run(renderInstallScript(spec, probe));
            expect(first.stderr).toBe("");
            expect(first.status).toBe(0);
            expect(fs.readFileSync(sb.file("usr/local/lib/ai-dualstack/throughput-probe.py"), "utf8")).toBe(PROGRAM);
            expect(fs.statSync(sb.file("usr/local/lib/ai-dualstack/throughput-probe.py")).mode & 0o777).toBe(0o755);
            // The GPU's Xid counter, which the service runs before each probe.
            expect(fs.readFileSync(sb.file("usr/local/lib/ai-dualstack/xid-textfile.sh"), "utf8")).toBe(XID_TEXTFILE);
            expect(fs.statSync(sb.file("usr/local/lib/ai-dualstack/xid-textfile.sh")).mode & 0o777).toBe(0o755);
            expect(JSON.parse(fs.readFileSync(sb.file("etc/ai-dualstack/throughput-probe.json"), "utf8"))).toEqual(
                spec,
            );
            expect(fs.readFileSync(sb.file(`etc/systemd/system/${UNIT}.service`), "utf8")).toBe(
                renderServiceUnit(spec, probe.textfileDirectory),
            );
            expect(fs.readFileSync(sb.file(`etc/systemd/system/${UNIT}.timer`), "utf8")).toBe(renderTimerUnit(60));
            expect(fs.statSync(sb.file("var/lib/ai-dualstack/textfile")).isDirectory()).toBe(true);
            expect(first.calls).toEqual([
                "systemctl daemon-reload",
                `systemctl enable --now ${UNIT}.timer`,
                `systemctl start --no-block ${UNIT}.service`,
            ]);

            const again = sb.run(renderInstallScript(spec, probe));
            expect(again.status).toBe(0);
            expect(again.stdout).toBe("ai-dualstack: throughput probe up to date\n");
            expect(again.calls).toEqual([`systemctl enable --now ${UNIT}.timer`]);

            // Another interval rewrites the timer alone, then reloads and runs once.
            const changed = sb.run(renderInstallScript(spec, { ...probe, intervalMinutes: 15 }));
            expect(changed.stdout).toContain(`ai-dualstack: wrote /etc/systemd/system/${UNIT}.timer\n`);
            expect(changed.stdout).not.toContain("throughput-probe.json");
            expect(changed.calls[0]).toBe("systemctl daemon-reload");
            // No temporary file is left beside what was written.
            expect(fs.readdirSync(sb.file("etc/systemd/system")).sort()).toEqual([`${UNIT}.service`, `${UNIT}.timer`]);

            fs.writeFileSync(sb.file("var/lib/ai-dualstack/textfile/aidualstack_throughput.prom"), "stale\n");
            fs.writeFileSync(sb.file("var/lib/ai-dualstack/textfile/aidualstack_xid.prom"), "stale\n");
            const removed = sb.run(renderRemoveScript(probe));
            expect(removed.status).toBe(0);
            expect(removed.calls[0]).toBe(`systemctl disable --now ${UNIT}.timer`);
            expect(fs.readdirSync(sb.file("etc/systemd/system"))).toEqual([]);
            expect(fs.existsSync(sb.file("etc/ai-dualstack/throughput-probe.json"))).toBe(false);
            expect(fs.existsSync(sb.file("var/lib/ai-dualstack/textfile/aidualstack_throughput.prom"))).toBe(false);
            expect(fs.existsSync(sb.file("var/lib/ai-dualstack/textfile/aidualstack_xid.prom"))).toBe(false);
            expect(fs.existsSync(sb.file("usr/local/lib/ai-dualstack/xid-textfile.sh"))).toBe(false);
            // Removing twice is fine.
            expect(sb.run(renderRemoveScript(probe)).status).toBe(0);
        } finally {
            sb.dispose();
        }
    });
});

describe("node-exporter reads the probe's folder", () => {
    test("node-exporter images are recognised by name, whatever the registry", () => {
        expect(isNodeExporter({ image: "prom/node-exporter:v1.9.1" })).toBe(true);
        expect(isNodeExporter({ image: "quay.io/prometheus/node-exporter@sha256:abc" })).toBe(true);
        expect(isNodeExporter({ image: "utkuozdemir/nvidia_gpu_exporter:1.3.2" })).toBe(false);
    });

    test("the folder as the container sees it, through the closest host-path mount", () => {
        const vol = (source: string, target: string) => ({ source, target, readOnly: true });
        expect(containerPathOf({ volumes: [vol("/", "/host")] }, "/var/lib/x")).toBe("/host/var/lib/x");
        expect(containerPathOf({ volumes: [vol("/", "/host"), vol("/var/lib", "/vl")] }, "/var/lib/x")).toBe("/vl/x");
        expect(containerPathOf({ volumes: [vol("/var/lib/x", "/t")] }, "/var/lib/x")).toBe("/t");
        expect(containerPathOf({ volumes: [vol("/var/li", "/t"), vol("models", "/m")] }, "/var/lib/x")).toBeUndefined();
    });
});
