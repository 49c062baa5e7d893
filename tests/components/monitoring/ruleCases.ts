// promtool unit tests for every alert rule: synthetic series that make each alert fire, and later
// clear. Each case states the labels and the summary it expects, in full; the runbook is the rule's
// own line with its label references filled in.

import { stringify } from "yaml";
import { ALERT_RULES } from "../../../components/monitoring/alerts";

export interface Check {
    /** Minutes since the start of the series. */
    readonly at: number;
    /** The alert's labels (besides alertname and severity) and its summary; absent: no alert then. */
    readonly fires?: { readonly labels: Readonly<Record<string, string>>; readonly summary: string };
}

export interface RuleCase {
    readonly alert: string;
    /** What the case shows, when an alert has more than one. */
    readonly what?: string;
    readonly intervalMinutes?: number;
    readonly series: Readonly<Record<string, string>>;
    readonly checks: readonly Check[];
}

const ai = { gpu: "rtx5090", guest: "private-ai" };
const model = { model: "qwen2.5:14b", gpu: "rtx5090", vm: "private-ai" };
const pool = { guest: "pve1", pool: "tankpriv" };
const backup = { backup: "pg-openwebui", kind: "pg_dump", guest: "private-backup" };
const sel = (labels: Record<string, string>) =>
    `{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}}`;

export const RULE_CASES: readonly RuleCase[] = [
    {
        alert: "TargetDown",
        series: { 'up{job="node",guest="private-redis",environment="private"}': "1 1 0x10 1x10" },
        checks: [
            { at: 5, fires: undefined },
            {
                at: 10,
                fires: {
                    labels: { job: "node", guest: "private-redis", environment: "private" },
                    summary: "node exporter on private-redis (private) is not answering",
                },
            },
            { at: 16 },
        ],
    },
    {
        alert: "ModelThroughputLow",
        series: {
            [`aidualstack_model_tokens_per_second${sel(model)}`]: "80 80 30 30 30 80 80",
            [`aidualstack_model_min_tokens_per_second${sel(model)}`]: "50x6",
        },
        checks: [
            { at: 1 },
            {
                at: 3,
                fires: { labels: model, summary: "qwen2.5:14b on rtx5090 runs at 30.0 tokens/s, below its threshold" },
            },
            { at: 6 },
        ],
    },
    {
        alert: "ModelNotInVram",
        series: { [`aidualstack_model_in_vram${sel(model)}`]: "1 1 0 0 1 1" },
        checks: [
            { at: 2, fires: { labels: model, summary: "qwen2.5:14b on private-ai is not fully in VRAM" } },
            { at: 5 },
        ],
    },
    {
        alert: "ThroughputProbeFailed",
        series: { [`aidualstack_model_probe_success${sel(model)}`]: "1 0 1" },
        checks: [
            {
                at: 1,
                fires: { labels: model, summary: "the throughput probe could not measure qwen2.5:14b on private-ai" },
            },
            { at: 2 },
        ],
    },
    {
        alert: "ThroughputProbeStale",
        what: "its timer stopped: neither its last run nor its last success moves",
        series: {
            [`aidualstack_model_probe_last_run_timestamp_seconds${sel(model)}`]: "0x150 9000x60",
            [`aidualstack_model_probe_last_success_timestamp_seconds${sel(model)}`]: "0x150 9000x60",
        },
        checks: [
            { at: 119 },
            {
                at: 121,
                fires: {
                    labels: model,
                    summary: "the throughput probe has not measured qwen2.5:14b on private-ai for over 2 h",
                },
            },
            { at: 160 },
        ],
    },
    {
        // Its last run stays fresh (hourly), its last success does not; at minute 180 a run succeeds again.
        alert: "ThroughputProbeStale",
        what: "runs but fails for 3 h",
        series: {
            [`aidualstack_model_probe_last_run_timestamp_seconds${sel(model)}`]:
                "0x59 3600x60 7200x60 10800x60 14400x60",
            [`aidualstack_model_probe_success${sel(model)}`]: "1 0x179 1x60",
            [`aidualstack_model_probe_last_success_timestamp_seconds${sel(model)}`]: "0x179 10800x60",
        },
        checks: [
            { at: 119 },
            {
                at: 121,
                fires: {
                    labels: model,
                    summary: "the throughput probe has not measured qwen2.5:14b on private-ai for over 2 h",
                },
            },
            {
                at: 179,
                fires: {
                    labels: model,
                    summary: "the throughput probe has not measured qwen2.5:14b on private-ai for over 2 h",
                },
            },
            { at: 181 },
        ],
    },
    {
        alert: "GpuTemperatureHigh",
        series: { [`nvidia_smi_temperature_gpu${sel({ ...ai, uuid: "GPU-1" })}`]: "70 90x15 70x5" },
        checks: [
            { at: 8 },
            { at: 12, fires: { labels: { ...ai, uuid: "GPU-1" }, summary: "GPU rtx5090 on private-ai is at 90 °C" } },
            { at: 20 },
        ],
    },
    {
        alert: "GpuVramNearFull",
        series: {
            [`nvidia_smi_memory_used_bytes${sel({ ...ai, uuid: "GPU-1" })}`]: "31e9x20 10e9x5",
            [`nvidia_smi_memory_total_bytes${sel({ ...ai, uuid: "GPU-1" })}`]: "32e9x25",
        },
        checks: [
            {
                at: 17,
                fires: { labels: { ...ai, uuid: "GPU-1" }, summary: "VRAM of rtx5090 on private-ai is 96.88% full" },
            },
            { at: 23 },
        ],
    },
    {
        alert: "GpuXidError",
        series: { 'aidualstack_gpu_xid_errors_total{guest="private-ai",xid="79"}': "0x10 1x60" },
        checks: [
            { at: 5 },
            { at: 12, fires: { labels: { guest: "private-ai", xid: "79" }, summary: "Xid 79 on private-ai's GPU" } },
            { at: 50 },
        ],
    },
    {
        alert: "ZfsPoolDegraded",
        series: {
            'node_zfs_zpool_state{guest="pve1",zpool="tankpriv",state="degraded"}': "0 1 1 0",
            'node_zfs_zpool_state{guest="pve1",zpool="tankpriv",state="online"}': "1 0 0 1",
        },
        checks: [
            {
                at: 1,
                fires: {
                    labels: { guest: "pve1", zpool: "tankpriv", state: "degraded" },
                    summary: "ZFS pool tankpriv on pve1 is degraded",
                },
            },
            { at: 3 },
        ],
    },
    {
        alert: "ZfsScrubErrors",
        series: {
            [`aidualstack_zfs_pool_scrub_errors${sel(pool)}`]: "0 2 2 0 0",
            [`aidualstack_zfs_pool_device_errors${sel(pool)}`]: "0 0 0 0 3",
        },
        checks: [
            { at: 0 },
            {
                at: 1,
                fires: { labels: pool, summary: "ZFS pool tankpriv on pve1 reports read, write or checksum errors" },
            },
            { at: 3 },
            {
                at: 4,
                fires: { labels: pool, summary: "ZFS pool tankpriv on pve1 reports read, write or checksum errors" },
            },
        ],
    },
    {
        alert: "ZfsPoolAlmostFull",
        series: {
            [`aidualstack_zfs_pool_allocated_bytes${sel(pool)}`]: "900x20 100x5",
            [`aidualstack_zfs_pool_size_bytes${sel(pool)}`]: "1000x25",
        },
        checks: [{ at: 16, fires: { labels: pool, summary: "ZFS pool tankpriv on pve1 is 90% full" } }, { at: 22 }],
    },
    {
        alert: "DiskAlmostFull",
        series: {
            'node_filesystem_avail_bytes{guest="private-postgres",mountpoint="/",fstype="ext4"}': "10x20 90x5",
            'node_filesystem_size_bytes{guest="private-postgres",mountpoint="/",fstype="ext4"}': "100x25",
            // A full tmpfs is no disk: it must never fire.
            'node_filesystem_avail_bytes{guest="private-postgres",mountpoint="/run",fstype="tmpfs"}': "0x25",
            'node_filesystem_size_bytes{guest="private-postgres",mountpoint="/run",fstype="tmpfs"}': "100x25",
        },
        checks: [
            {
                at: 16,
                fires: {
                    labels: { guest: "private-postgres", mountpoint: "/", fstype: "ext4" },
                    summary: "/ on private-postgres is 90% full",
                },
            },
            { at: 22 },
        ],
    },
    {
        alert: "HostMemoryPressure",
        series: {
            'node_memory_MemAvailable_bytes{guest="pve1",guest_type="host"}': "4x15 50x5",
            'node_memory_MemTotal_bytes{guest="pve1",guest_type="host"}': "100x20",
            // A container short of memory is not the host's pressure.
            'node_memory_MemAvailable_bytes{guest="private-redis",guest_type="container"}': "1x20",
            'node_memory_MemTotal_bytes{guest="private-redis",guest_type="container"}': "100x20",
        },
        checks: [
            {
                at: 12,
                fires: {
                    labels: { guest: "pve1", guest_type: "host" },
                    summary: "host pve1 has 4% of its memory available",
                },
            },
            { at: 18 },
        ],
    },
    {
        alert: "BackupFailed",
        series: { [`aidualstack_backup_last_run_success${sel(backup)}`]: "1 0 0 1" },
        checks: [
            { at: 0 },
            { at: 1, fires: { labels: backup, summary: "backup pg-openwebui (pg_dump) failed on its last run" } },
            { at: 3 },
        ],
    },
    {
        alert: "BackupMissing",
        intervalMinutes: 10,
        series: { [`aidualstack_backup_last_success_timestamp_seconds${sel(backup)}`]: "0x160 95000x10" },
        checks: [
            { at: 1550 },
            {
                at: 1570,
                fires: { labels: backup, summary: "backup pg-openwebui (pg_dump) has not succeeded for over 26 h" },
            },
            { at: 1620 },
        ],
    },
    {
        alert: "StackDrifted",
        intervalMinutes: 60,
        // One night clean, one with two drifted resources, then clean again after the fix.
        series: { 'aidualstack_drift_resources{stack="private",guest="private-cicd"}': "0x24 2x24 0x24" },
        checks: [
            { at: 1200 },
            {
                at: 1800,
                fires: {
                    labels: { stack: "private", guest: "private-cicd" },
                    summary: "2 resources of stack private differ from the program (nightly drift check)",
                },
            },
            { at: 3300 },
        ],
    },
    {
        alert: "RagIngestStale",
        intervalMinutes: 10,
        series: { [`aidualstack_rag_ingest_last_success_timestamp_seconds${sel(ai)}`]: "0x150 90000x10" },
        checks: [
            { at: 1430 },
            {
                at: 1450,
                fires: {
                    labels: ai,
                    summary: "the document ingest on private-ai has not completed a pass for over a day",
                },
            },
            { at: 1520 },
        ],
    },
];

/** The rule's runbook with `{{ $labels.x }}` filled in from the alert's labels. */
function runbookFor(alert: string, labels: Readonly<Record<string, string>>): string {
    const rule = ALERT_RULES.find((r) => r.alert === alert);
    if (!rule) throw new Error(`no rule ${alert}`);
    return rule.runbook.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? "");
}

/** The promtool unit-test file for the rule file `rulesFile` (a path relative to the test file). */
export function renderRuleTests(rulesFile: string): string {
    const tests = RULE_CASES.map((c) => {
        const severity = ALERT_RULES.find((r) => r.alert === c.alert)?.severity ?? "missing";
        return {
            name: c.what ? `${c.alert}: ${c.what}` : c.alert,
            interval: `${c.intervalMinutes ?? 1}m`,
            input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
            alert_rule_test: c.checks.map((check) => ({
                eval_time: `${check.at}m`,
                alertname: c.alert,
                exp_alerts: check.fires
                    ? [
                          {
                              exp_labels: { ...check.fires.labels, severity },
                              exp_annotations: {
                                  summary: check.fires.summary,
                                  runbook: runbookFor(c.alert, check.fires.labels),
                              },
                          },
                      ]
                    : [],
            })),
        };
    });
    return stringify({ rule_files: [rulesFile], evaluation_interval: "1m", tests }, { lineWidth: 0 });
}
