// Grafana's dashboards, generated: the host, the GPUs, inference throughput against its threshold,
// ZFS and backups. Each is plain JSON that the set-up provisions from a file; the tests check that
// every panel's query reads only metrics some target provides.

import { DATASOURCE_UID } from "./configFiles";

export interface PanelQuery {
    readonly expr: string;
    readonly legend: string;
}

export interface Panel {
    readonly title: string;
    readonly type: "timeseries" | "stat";
    readonly unit: string;
    readonly queries: readonly PanelQuery[];
}

export interface DashboardSpec {
    readonly uid: string;
    readonly title: string;
    readonly panels: readonly Panel[];
}

const ts = (title: string, unit: string, ...queries: PanelQuery[]): Panel => ({
    title,
    type: "timeseries",
    unit,
    queries,
});
const stat = (title: string, unit: string, ...queries: PanelQuery[]): Panel => ({ title, type: "stat", unit, queries });
const q = (expr: string, legend: string): PanelQuery => ({ expr, legend });

const HOST = 'guest_type="host"';
const DISKS = 'fstype!~"tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|fuse.lxcfs|autofs"';

export const DASHBOARDS: readonly DashboardSpec[] = [
    {
        uid: "aids-host",
        title: "ai-dualstack: host and guests",
        panels: [
            stat("Targets up", "none", q("sum by (job) (up)", "{{job}}")),
            ts(
                "Host CPU busy",
                "percentunit",
                q(`1 - avg by (guest) (rate(node_cpu_seconds_total{${HOST},mode="idle"}[5m]))`, "{{guest}}"),
            ),
            ts(
                "Host memory available",
                "percentunit",
                q(`node_memory_MemAvailable_bytes{${HOST}} / node_memory_MemTotal_bytes{${HOST}}`, "{{guest}}"),
            ),
            ts(
                "Memory pressure (stalled share)",
                "percentunit",
                q("rate(node_pressure_memory_waiting_seconds_total[5m])", "{{guest}}"),
            ),
            ts("Load (1 min)", "none", q("node_load1", "{{guest}}")),
            ts(
                "Disk used",
                "percentunit",
                q(
                    `1 - node_filesystem_avail_bytes{${DISKS}} / node_filesystem_size_bytes{${DISKS}}`,
                    "{{guest}} {{mountpoint}}",
                ),
            ),
            ts(
                "Network",
                "Bps",
                q('rate(node_network_receive_bytes_total{device!="lo"}[5m])', "{{guest}} {{device}} in"),
                q('rate(node_network_transmit_bytes_total{device!="lo"}[5m])', "{{guest}} {{device}} out"),
            ),
            ts("Guests' CPU (Proxmox)", "percentunit", q("pve_cpu_usage_ratio", "{{id}}")),
            ts("Guests' memory (Proxmox)", "bytes", q("pve_memory_usage_bytes", "{{id}}")),
            ts(
                "Containers in the VMs: memory",
                "bytes",
                q('container_memory_working_set_bytes{name!=""}', "{{guest}} {{name}}"),
            ),
        ],
    },
    {
        uid: "aids-gpu",
        title: "ai-dualstack: GPUs",
        panels: [
            ts("Utilisation", "percentunit", q("nvidia_smi_utilization_gpu_ratio", "{{gpu}}")),
            ts(
                "VRAM used",
                "bytes",
                q("nvidia_smi_memory_used_bytes", "{{gpu}} used"),
                q("nvidia_smi_memory_total_bytes", "{{gpu}} total"),
            ),
            ts("Temperature", "celsius", q("nvidia_smi_temperature_gpu", "{{gpu}}")),
            ts("Power", "watt", q("nvidia_smi_power_draw_watts", "{{gpu}}")),
            stat(
                "Xid errors (24 h)",
                "none",
                q("sum by (gpu) (increase(aidualstack_gpu_xid_errors_total[24h]))", "{{gpu}}"),
            ),
        ],
    },
    {
        uid: "aids-throughput",
        title: "ai-dualstack: inference throughput",
        panels: [
            ts(
                "Tokens/s against the threshold",
                "none",
                q("aidualstack_model_tokens_per_second", "{{model}} on {{gpu}}"),
                q("aidualstack_model_min_tokens_per_second", "{{model}} threshold"),
            ),
            ts(
                "Roofline efficiency",
                "percentunit",
                q("aidualstack_model_roofline_efficiency", "{{model}} on {{gpu}}"),
            ),
            stat("Fully in VRAM", "bool", q("aidualstack_model_in_vram", "{{model}}")),
            stat("Probe succeeded", "bool", q("aidualstack_model_probe_success", "{{model}}")),
            stat(
                "Since the last probe",
                "s",
                q("time() - aidualstack_model_probe_last_run_timestamp_seconds", "{{model}}"),
            ),
            stat(
                "Since the last measurement",
                "s",
                q("time() - aidualstack_model_probe_last_success_timestamp_seconds", "{{model}}"),
            ),
        ],
    },
    {
        uid: "aids-zfs",
        title: "ai-dualstack: ZFS",
        panels: [
            stat(
                "Pool state (1 = in that state)",
                "none",
                q(
                    'node_zfs_zpool_state{state!="online"} > 0 or node_zfs_zpool_state{state="online"}',
                    "{{zpool}} {{state}}",
                ),
            ),
            ts(
                "Pool used",
                "percentunit",
                q("aidualstack_zfs_pool_allocated_bytes / aidualstack_zfs_pool_size_bytes", "{{pool}}"),
            ),
            stat("Device errors", "none", q("aidualstack_zfs_pool_device_errors", "{{pool}}")),
            stat("Scrub errors", "none", q("aidualstack_zfs_pool_scrub_errors", "{{pool}}")),
            stat(
                "Since the last scrub",
                "s",
                q("time() - aidualstack_zfs_pool_last_scrub_timestamp_seconds", "{{pool}}"),
            ),
            ts("ARC size", "bytes", q("node_zfs_arc_size", "{{guest}}")),
            ts(
                "ARC hit ratio",
                "percentunit",
                q(
                    "rate(node_zfs_arc_hits[5m]) / (rate(node_zfs_arc_hits[5m]) + rate(node_zfs_arc_misses[5m]))",
                    "{{guest}}",
                ),
            ),
        ],
    },
    {
        uid: "aids-backups",
        title: "ai-dualstack: backups",
        panels: [
            stat("Last run succeeded", "bool", q("aidualstack_backup_last_run_success", "{{backup}} ({{kind}})")),
            stat(
                "Since the last success",
                "s",
                q("time() - aidualstack_backup_last_success_timestamp_seconds", "{{backup}} ({{kind}})"),
            ),
            ts(
                "Last run",
                "dateTimeAsIso",
                q("aidualstack_backup_last_run_timestamp_seconds * 1000", "{{backup}} ({{kind}})"),
            ),
        ],
    },
    {
        uid: "aids-rag",
        title: "ai-dualstack: document ingest (RAG)",
        panels: [
            ts(
                "Documents and chunks",
                "none",
                q("aidualstack_rag_ingest_files", "files on {{guest}}"),
                q("aidualstack_rag_ingest_chunks", "chunks on {{guest}}"),
            ),
            stat("Files that failed to parse", "none", q("aidualstack_rag_ingest_failures", "{{guest}}")),
            stat(
                "Since the last completed pass",
                "s",
                q("time() - aidualstack_rag_ingest_last_success_timestamp_seconds", "{{guest}}"),
            ),
        ],
    },
];

/** One dashboard as Grafana's JSON model, panels two to a row. */
export function dashboardJson(spec: DashboardSpec): Record<string, unknown> {
    const datasource = { type: "prometheus", uid: DATASOURCE_UID };
    return {
        uid: spec.uid,
        title: spec.title,
        tags: ["ai-dualstack"],
        timezone: "browser",
        schemaVersion: 39,
        version: 1,
        editable: false,
        refresh: "1m",
        time: { from: "now-24h", to: "now" },
        panels: spec.panels.map((p, i) => ({
            id: i + 1,
            type: p.type,
            title: p.title,
            datasource,
            gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
            fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
            targets: p.queries.map((query, j) => ({
                refId: String.fromCharCode(65 + j),
                datasource,
                expr: query.expr,
                legendFormat: query.legend,
            })),
        })),
    };
}

/** File name → JSON text, as the set-up writes them into the dashboards folder. */
export function renderDashboards(): Record<string, string> {
    return Object.fromEntries(
        DASHBOARDS.map((d) => [`${d.uid}.json`, `${JSON.stringify(dashboardJson(d), null, 2)}\n`]),
    );
}
