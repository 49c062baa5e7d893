// What the continuous throughput probe of one GPU VM runs on: its spec (rendered from the same
// resolved gate settings the deploy-time gate takes, with the gate's own generate request, and the
// rate each model must reach as the gate worked it out), its systemd units, and its install and
// removal scripts. Plain functions, tested without Pulumi.

import * as path from "path";
import { GateSettings } from "../../config/schema";
import { ModelGateConfig, ServiceConfig, ThroughputProbeConfig } from "../../config/schema";
import { loadScript, renderScript } from "../../lib/scripts";
import { generateRequest } from "../../providers/ollama/runGate";
import { XID_TEXTFILE } from "../monitoring/scripts";

export const OLLAMA_PORT = 11434;
export const PROGRAM_PATH = "/usr/local/lib/ai-dualstack/throughput-probe.py";
export const SPEC_PATH = "/etc/ai-dualstack/throughput-probe.json";
export const UNIT = "aidualstack-throughput-probe";
export const TEXTFILE_NAME = "aidualstack_throughput.prom";
/** The GPU's Xid counter (components/monitoring/scripts/xid-textfile.sh): the driver runs in the VM, so its log is here. */
export const XID_PATH = "/usr/local/lib/ai-dualstack/xid-textfile.sh";
export const XID_TEXTFILE_NAME = "aidualstack_xid.prom";

export const PROGRAM = loadScript(__dirname, "throughput-probe.py");
const INSTALL = loadScript(__dirname, "probe-install.sh");
const REMOVE = loadScript(__dirname, "probe-remove.sh");
const COMMENT = "Rendered by ai-dualstack (components/probe/spec.ts). Do not edit in the VM.";

/** Where the probe reaches Ollama inside the VM: a published port, or the container on its network. */
export type OllamaTarget = { url: string } | { container: string; port: number };

/**
 * What the gate recorded for one model (its outputs): the rate it required (minTokensPerSecond, or
 * minEfficiency of the roofline when higher) and the card's ceiling for the model it measured. The
 * probe compares with these and computes neither.
 */
export interface GateRequirement {
    requiredTokensPerSecond: number;
    ceilingTokensPerSecond: number;
}

export interface ProbeSpec {
    vm: string;
    gpu: { name: string };
    ollama: OllamaTarget;
    textfile: string;
    runs: number;
    timeoutSeconds: number;
    attempts: number;
    backoffMs: number;
    models: ({
        name: string;
        digest?: string;
        /** The gate's own request body (runGate.generateRequest). */
        request: ReturnType<typeof generateRequest>;
    } & GateRequirement)[];
}

export interface ProbeSpecArgs {
    vm: string;
    gpu: { name: string; memoryBandwidthGBs: number };
    /** The VM's address, where its published ports bind. */
    address: string;
    /** The VM's services: the one named "ollama" is measured. */
    services: Readonly<Record<string, Pick<ServiceConfig, "ports">>>;
    models: readonly ModelGateConfig[];
    settings: GateSettings;
    probe: ThroughputProbeConfig;
}

/**
 * Ollama's port published on the VM's address (private), else the container's address on the
 * compose network (public: there Ollama publishes nothing, and its proxy route admits only the
 * trusted networks, not the VM itself).
 */
export function ollamaTarget(address: string, services: ProbeSpecArgs["services"]): OllamaTarget {
    const port = services["ollama"]?.ports.find((p) => p.target === OLLAMA_PORT && p.protocol === "tcp");
    return port ? { url: `http://${address}:${port.published}` } : { container: "ollama", port: OLLAMA_PORT };
}

/** The spec, given what the gate recorded for each of the models (by name). */
export function probeSpec(a: ProbeSpecArgs, gated: Readonly<Record<string, GateRequirement>>): ProbeSpec {
    const s = a.settings;
    return {
        vm: a.vm,
        gpu: { name: a.gpu.name },
        ollama: ollamaTarget(a.address, a.services),
        textfile: path.posix.join(a.probe.textfileDirectory, TEXTFILE_NAME),
        runs: s.runs,
        timeoutSeconds: s.timeoutSeconds,
        attempts: s.attempts,
        backoffMs: s.backoffMs,
        models: a.models.map((m) => {
            const gate = gated[m.name];
            if (gate === undefined) throw new Error(`probe of ${a.vm}: the gate recorded nothing for ${m.name}`);
            return {
                name: m.name,
                ...(m.digest ? { digest: m.digest } : {}),
                requiredTokensPerSecond: gate.requiredTokensPerSecond,
                ceilingTokensPerSecond: gate.ceilingTokensPerSecond,
                // The settings spread: whatever the gate's request takes, the probe's takes too.
                request: generateRequest({ ...s, model: m.name }),
            };
        }),
    };
}

/** Longest a run may take: every generation (warm-up included) and two listings at their limit. */
export function runLimitSeconds(spec: Pick<ProbeSpec, "models" | "runs" | "timeoutSeconds">): number {
    return spec.models.length * (spec.runs + 3) * spec.timeoutSeconds + 60;
}

export function renderServiceUnit(spec: ProbeSpec, textfileDirectory: string): string {
    return `[Unit]
Description=ai-dualstack throughput probe: the gated models measured as the deploy-time gate does
After=network-online.target docker.service
Wants=network-online.target

[Service]
Type=oneshot
# The GPU's Xid errors in this boot's kernel log, counted first; its failure never stops the probe.
Environment=AIDS_TEXTFILE_DIR=${textfileDirectory}
ExecStartPre=-${XID_PATH}
ExecStart=/usr/bin/python3 ${PROGRAM_PATH} --spec ${SPEC_PATH}
TimeoutStartSec=${runLimitSeconds(spec)}
Nice=5
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=${textfileDirectory}
`;
}

export function renderTimerUnit(intervalMinutes: number): string {
    return `[Unit]
Description=ai-dualstack throughput probe, every ${intervalMinutes} min

[Timer]
OnBootSec=10min
OnUnitActiveSec=${intervalMinutes}min
AccuracySec=1min
Unit=${UNIT}.service

[Install]
WantedBy=timers.target
`;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** The idempotent install: files written only when they differ, the timer enabled, one run when anything changed. */
export function renderInstallScript(spec: ProbeSpec, probe: ThroughputProbeConfig): string {
    return renderScript(
        COMMENT,
        {
            AIDS_UNIT: UNIT,
            AIDS_PROGRAM_PATH: PROGRAM_PATH,
            AIDS_SPEC_PATH: SPEC_PATH,
            AIDS_TEXTFILE_DIR: probe.textfileDirectory,
            AIDS_XID_PATH: XID_PATH,
            AIDS_PROGRAM_B64: b64(PROGRAM),
            AIDS_XID_B64: b64(XID_TEXTFILE),
            AIDS_SPEC_B64: b64(`${JSON.stringify(spec, null, 2)}\n`),
            AIDS_SERVICE_B64: b64(renderServiceUnit(spec, probe.textfileDirectory)),
            AIDS_TIMER_B64: b64(renderTimerUnit(probe.intervalMinutes)),
        },
        INSTALL,
    );
}

/** The removal (the probe turned off, or the VM's gate gone): units, program, spec and its metrics file. */
export function renderRemoveScript(probe: ThroughputProbeConfig): string {
    return renderScript(
        COMMENT,
        {
            AIDS_UNIT: UNIT,
            AIDS_PROGRAM_PATH: PROGRAM_PATH,
            AIDS_SPEC_PATH: SPEC_PATH,
            AIDS_TEXTFILE: path.posix.join(probe.textfileDirectory, TEXTFILE_NAME),
            AIDS_XID_PATH: XID_PATH,
            AIDS_XID_TEXTFILE: path.posix.join(probe.textfileDirectory, XID_TEXTFILE_NAME),
        },
        REMOVE,
    );
}

/** The plan's line for the probe of one VM: the thresholds as configured (the gate works out the rate). */
export function describeProbe(a: ProbeSpecArgs): string {
    const ollama = ollamaTarget(a.address, a.services);
    const where = "url" in ollama ? ollama.url : `container ${ollama.container}:${ollama.port}`;
    const models = a.models
        .map((m) => {
            const eff =
                m.minEfficiency !== undefined ? ` and ${Math.round(m.minEfficiency * 100)}% of the roofline` : "";
            return `${m.name} (min ${m.minTokensPerSecond} tokens/s${eff})`;
        })
        .join(", ");
    const textfile = path.posix.join(a.probe.textfileDirectory, TEXTFILE_NAME);
    return `throughput probe (systemd timer, every ${a.probe.intervalMinutes} min): ${models} via ${where}, as the gate measures; metrics to ${textfile} for node-exporter`;
}
