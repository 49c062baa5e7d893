// Which metrics each kind of target provides, as far as the alert rules and dashboards use them: the
// tests check every query against this list and the list against real exporters where they run here
// (node-exporter) or against the agreed textfile formats (throughput probe, backups, pool status, Xid).

import { ExporterJob } from "../../config/resolve/monitoring";

/** Prometheus's own series, on every target or computed by it. */
export const BUILTIN_METRICS = ["up", "ALERTS", "scrape_duration_seconds"] as const;

/** node-exporter's own collectors (Debian's prometheus-node-exporter, and prom/node-exporter in the VMs). */
export const NODE_EXPORTER_METRICS = [
    "node_cpu_seconds_total",
    "node_load1",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_pressure_memory_waiting_seconds_total",
] as const;

/** node-exporter's ZFS collector, on the Proxmox host. */
export const ZFS_COLLECTOR_METRICS = [
    "node_zfs_zpool_state",
    "node_zfs_arc_size",
    "node_zfs_arc_hits",
    "node_zfs_arc_misses",
] as const;

/** The throughput probe's textfile in each GPU VM (read by that VM's node-exporter). */
export const PROBE_METRICS = [
    "aidualstack_model_tokens_per_second",
    "aidualstack_model_min_tokens_per_second",
    "aidualstack_model_in_vram",
    "aidualstack_model_roofline_efficiency",
    "aidualstack_model_probe_last_run_timestamp_seconds",
    "aidualstack_model_probe_last_success_timestamp_seconds",
    "aidualstack_model_probe_success",
] as const;

/** The Xid counter textfile in each GPU VM (components/monitoring/scripts/xid-textfile.sh). */
export const XID_METRICS = ["aidualstack_gpu_xid_errors_total"] as const;

/** The backup jobs' textfile, on the guest that runs each job. */
export const BACKUP_METRICS = [
    "aidualstack_backup_last_run_timestamp_seconds",
    "aidualstack_backup_last_run_success",
    "aidualstack_backup_last_success_timestamp_seconds",
] as const;

/** The RAG ingest's textfile in the private AI VM (container-files/rag-ingest.py, METRICS_FILE). */
export const RAG_INGEST_METRICS = [
    "aidualstack_rag_ingest_files",
    "aidualstack_rag_ingest_chunks",
    "aidualstack_rag_ingest_failures",
    "aidualstack_rag_ingest_failed_passes_total",
    "aidualstack_rag_ingest_last_success_timestamp_seconds",
] as const;

/** The pool-status textfile on the host (components/monitoring/scripts/zpool-textfile.sh). */
export const POOL_METRICS = [
    "aidualstack_zfs_pool_size_bytes",
    "aidualstack_zfs_pool_allocated_bytes",
    "aidualstack_zfs_pool_device_errors",
    "aidualstack_zfs_pool_scrub_errors",
    "aidualstack_zfs_pool_last_scrub_timestamp_seconds",
] as const;

/** The nightly drift check's textfile in the cicd container (tools/ciReport.ts, published by runner-loop.sh). */
export const DRIFT_METRICS = ["aidualstack_drift_resources"] as const;

/** utkuozdemir/nvidia_gpu_exporter (names from nvidia-smi's query fields). */
export const GPU_EXPORTER_METRICS = [
    "nvidia_smi_utilization_gpu_ratio",
    "nvidia_smi_memory_used_bytes",
    "nvidia_smi_memory_total_bytes",
    "nvidia_smi_temperature_gpu",
    "nvidia_smi_power_draw_watts",
] as const;

/** cAdvisor in the VMs. */
export const CADVISOR_METRICS = ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"] as const;

/** prometheus-pve-exporter on the host. */
export const PVE_EXPORTER_METRICS = [
    "pve_up",
    "pve_cpu_usage_ratio",
    "pve_memory_usage_bytes",
    "pve_memory_size_bytes",
] as const;

/** What each job's targets provide; node targets carry every textfile the guests write. */
export const METRICS_BY_JOB: Readonly<Record<ExporterJob, readonly string[]>> = {
    node: [
        ...NODE_EXPORTER_METRICS,
        ...ZFS_COLLECTOR_METRICS,
        ...PROBE_METRICS,
        ...XID_METRICS,
        ...BACKUP_METRICS,
        ...POOL_METRICS,
        ...DRIFT_METRICS,
        ...RAG_INGEST_METRICS,
    ],
    cadvisor: CADVISOR_METRICS,
    gpu: GPU_EXPORTER_METRICS,
    pve: PVE_EXPORTER_METRICS,
};

const PROMQL_WORDS = new Set([
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "rate",
    "irate",
    "increase",
    "time",
    "vector",
    "scalar",
    "clamp_min",
    "clamp_max",
    "abs",
    "max_over_time",
    "min_over_time",
    "avg_over_time",
    "bool",
    "offset",
    "topk",
    "bottomk",
    "label_replace",
    "humanize",
    "changes",
    "delta",
    "deriv",
    "absent",
    "timestamp",
]);

/** The metric names a PromQL expression reads: identifiers outside strings, label sets and ranges, not functions or keywords. */
export function metricNames(expr: string): string[] {
    const bare = expr
        .replace(/"(?:[^"\\]|\\.)*"/g, " ")
        .replace(/\{[^}]*\}/g, " ")
        .replace(/\[[^\]]*\]/g, " ")
        .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
    const names = [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)].map((m) => m[0]);
    return [...new Set(names.filter((n) => !PROMQL_WORDS.has(n) && !/^(e|Inf|NaN)$/i.test(n)))];
}
