// The alert rules Prometheus evaluates, each with its runbook line: plain data, rendered to the rule
// file the set-up installs, listed in docs/monitoring.md and unit-tested by promtool
// (tests/components/monitoring/rules.test.yml fires and clears every one).

import { stringify } from "yaml";

export interface AlertRule {
    readonly alert: string;
    readonly group: "targets" | "throughput" | "gpu" | "storage" | "host" | "backups" | "cicd" | "rag";
    readonly expr: string;
    /** How long the condition must hold; "0s" fires on the first evaluation. */
    readonly for: string;
    readonly severity: "critical" | "warning";
    readonly summary: string;
    /** What to do, in one line: the annotation `runbook`. */
    readonly runbook: string;
}

/** Filesystems that are not disks: left out of the disk-space rule. */
const NOT_DISKS = 'fstype!~"tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|fuse.lxcfs|autofs"';

export const BACKUP_MISSING_SECONDS = 26 * 3600;
export const PROBE_STALE_SECONDS = 2 * 3600;
export const RAG_INGEST_STALE_SECONDS = 24 * 3600;

export const ALERT_RULES: readonly AlertRule[] = [
    {
        alert: "TargetDown",
        group: "targets",
        expr: "up == 0",
        for: "5m",
        severity: "critical",
        summary: "{{ $labels.job }} exporter on {{ $labels.guest }} ({{ $labels.environment }}) is not answering",
        runbook:
            "Is the guest running (`pct status`/`qm status`)? Then the exporter: `systemctl status prometheus-node-exporter` in a container, `docker ps` in a VM; on public, the proxy's trusted-only route and that it admits the monitoring host.",
    },
    {
        alert: "ModelThroughputLow",
        group: "throughput",
        expr: "aidualstack_model_tokens_per_second < aidualstack_model_min_tokens_per_second",
        for: "0s",
        severity: "critical",
        summary:
            '{{ $labels.model }} on {{ $labels.gpu }} runs at {{ $value | printf "%.1f" }} tokens/s, below its threshold',
        runbook:
            "Run `ollama ps` in the VM: a second model beside the gated one, or partial offload, halves speed; check the driver after an update (`nvidia-smi`), then re-run the gate with `pulumi up`.",
    },
    {
        alert: "ModelNotInVram",
        group: "throughput",
        expr: "aidualstack_model_in_vram == 0",
        for: "0s",
        severity: "critical",
        summary: "{{ $labels.model }} on {{ $labels.vm }} is not fully in VRAM",
        runbook:
            "`ollama ps` shows the CPU share: unload other models (`ollama stop`), check that the GPU is visible (`nvidia-smi`, Xid errors), restart Ollama.",
    },
    {
        alert: "ThroughputProbeFailed",
        group: "throughput",
        expr: "aidualstack_model_probe_success == 0",
        for: "0s",
        severity: "warning",
        summary: "the throughput probe could not measure {{ $labels.model }} on {{ $labels.vm }}",
        runbook: "`journalctl -u aidualstack-throughput-probe` in the VM: Ollama down, model missing, or a timeout.",
    },
    {
        alert: "ThroughputProbeStale",
        group: "throughput",
        // The last success, not the last run: a probe that runs every hour and fails every time is stale too.
        expr: `time() - aidualstack_model_probe_last_success_timestamp_seconds > ${PROBE_STALE_SECONDS}`,
        for: "0s",
        severity: "warning",
        summary: "the throughput probe has not measured {{ $labels.model }} on {{ $labels.vm }} for over 2 h",
        runbook:
            "`journalctl -u aidualstack-throughput-probe` in the VM says why the runs fail; `systemctl list-timers aidualstack-throughput-probe.timer` whether it runs; check node-exporter's textfile directory is mounted.",
    },
    {
        alert: "GpuTemperatureHigh",
        group: "gpu",
        expr: "nvidia_smi_temperature_gpu > 85",
        for: "10m",
        severity: "warning",
        summary: "GPU {{ $labels.gpu }} on {{ $labels.guest }} is at {{ $value }} °C",
        runbook:
            "Check airflow and fans (`nvidia-smi -q -d TEMPERATURE,FAN`); lower the power limit with `nvidia-smi -pl` until it is fixed.",
    },
    {
        alert: "GpuVramNearFull",
        group: "gpu",
        expr: "nvidia_smi_memory_used_bytes / nvidia_smi_memory_total_bytes > 0.95",
        for: "15m",
        severity: "warning",
        summary: "VRAM of {{ $labels.gpu }} on {{ $labels.guest }} is {{ $value | humanizePercentage }} full",
        runbook:
            "`nvidia-smi` lists the processes: a second model or a notebook holding VRAM pushes the gated model to the CPU; stop it.",
    },
    {
        alert: "GpuXidError",
        group: "gpu",
        expr: "increase(aidualstack_gpu_xid_errors_total[30m]) > 0",
        for: "0s",
        severity: "critical",
        summary: "Xid {{ $labels.xid }} on {{ $labels.guest }}'s GPU",
        runbook:
            "`journalctl -k | grep -i xid` in the VM; Xid 79 (fallen off the bus) or 48/63/64 (memory) need a VM restart and, if repeated, a host reboot and the card's power and slot checked.",
    },
    {
        alert: "ZfsPoolDegraded",
        group: "storage",
        expr: 'node_zfs_zpool_state{state!="online"} > 0',
        for: "0s",
        severity: "critical",
        summary: "ZFS pool {{ $labels.zpool }} on {{ $labels.guest }} is {{ $labels.state }}",
        runbook:
            "`zpool status -x` on the host: replace the failed disk (`zpool replace`), then let the resilver finish.",
    },
    {
        alert: "ZfsScrubErrors",
        group: "storage",
        expr: "aidualstack_zfs_pool_scrub_errors > 0 or aidualstack_zfs_pool_device_errors > 0",
        for: "0s",
        severity: "critical",
        summary: "ZFS pool {{ $labels.pool }} on {{ $labels.guest }} reports read, write or checksum errors",
        runbook:
            "`zpool status -v {{ $labels.pool }}` on the host: check the listed files and the disk's SMART data; `zpool clear` once fixed, then scrub again.",
    },
    {
        alert: "ZfsPoolAlmostFull",
        group: "storage",
        expr: "aidualstack_zfs_pool_allocated_bytes / aidualstack_zfs_pool_size_bytes > 0.85",
        for: "15m",
        severity: "warning",
        summary: "ZFS pool {{ $labels.pool }} on {{ $labels.guest }} is {{ $value | humanizePercentage }} full",
        runbook:
            "`zfs list -o space` on the host: delete old snapshots and images, or grow the guests' storage elsewhere; ZFS slows down past 85%.",
    },
    {
        alert: "DiskAlmostFull",
        group: "storage",
        expr: `1 - node_filesystem_avail_bytes{${NOT_DISKS}} / node_filesystem_size_bytes{${NOT_DISKS}} > 0.85`,
        for: "15m",
        severity: "warning",
        summary: "{{ $labels.mountpoint }} on {{ $labels.guest }} is {{ $value | humanizePercentage }} full",
        runbook:
            "`du -xh --max-depth=2 {{ $labels.mountpoint }} | sort -h` on the guest; prune Docker (`docker system prune`) or journal (`journalctl --vacuum-size`), or grow the disk in config.",
    },
    {
        alert: "HostMemoryPressure",
        group: "host",
        expr: 'node_memory_MemAvailable_bytes{guest_type="host"} / node_memory_MemTotal_bytes{guest_type="host"} < 0.05',
        for: "10m",
        severity: "critical",
        summary: "host {{ $labels.guest }} has {{ $value | humanizePercentage }} of its memory available",
        runbook:
            "Hugepages and the ZFS ARC are fixed; check the containers' use (`pct list`, `top`) and nodes.<node>.memory.zfsArcMaxGiB before the OOM killer picks a guest.",
    },
    {
        alert: "BackupFailed",
        group: "backups",
        expr: "aidualstack_backup_last_run_success == 0",
        for: "0s",
        severity: "critical",
        summary: "backup {{ $labels.backup }} ({{ $labels.kind }}) failed on its last run",
        runbook:
            "Read the job's log on {{ $labels.guest }} (`journalctl -u` the job's unit), fix the cause and run it again by hand.",
    },
    {
        alert: "BackupMissing",
        group: "backups",
        expr: `time() - aidualstack_backup_last_success_timestamp_seconds > ${BACKUP_MISSING_SECONDS}`,
        for: "0s",
        severity: "critical",
        summary: "backup {{ $labels.backup }} ({{ $labels.kind }}) has not succeeded for over 26 h",
        runbook:
            "Is the job's timer running on {{ $labels.guest }} (`systemctl list-timers`)? Run the job by hand and check the target storage has room.",
    },
    {
        // Written by the nightly drift workflow (tools/ciReport.ts), published by the runner's loop into the
        // cicd container's node-exporter textfiles (components/serviceLxc/scripts/runner-loop.sh).
        alert: "StackDrifted",
        group: "cicd",
        expr: "aidualstack_drift_resources > 0",
        for: "0s",
        severity: "warning",
        summary: "{{ $value }} resources of stack {{ $labels.stack }} differ from the program (nightly drift check)",
        runbook:
            "The drift workflow's last run names them in its job summary; `pulumi preview --refresh --stack {{ $labels.stack }} --diff` shows each change. Undo the change made by hand, or put it in the program and deploy.",
    },
    {
        alert: "RagIngestStale",
        group: "rag",
        expr: `time() - aidualstack_rag_ingest_last_success_timestamp_seconds > ${RAG_INGEST_STALE_SECONDS}`,
        for: "0s",
        severity: "warning",
        summary: "the document ingest on {{ $labels.guest }} has not completed a pass for over a day",
        runbook:
            "`docker logs rag-ingest` in the VM: a pass stops on Ollama or Qdrant errors (is the embedding model pulled, is Qdrant healthy?); files that fail to parse are only counted (aidualstack_rag_ingest_failures).",
    },
];

/** The rule file: one group per area. */
export function renderAlertRules(rules: readonly AlertRule[] = ALERT_RULES): string {
    const groups = [...new Set(rules.map((r) => r.group))].map((group) => ({
        name: `aidualstack-${group}`,
        rules: rules
            .filter((r) => r.group === group)
            .map((r) => ({
                alert: r.alert,
                expr: r.expr,
                ...(r.for !== "0s" ? { for: r.for } : {}),
                labels: { severity: r.severity },
                annotations: { summary: r.summary, runbook: r.runbook },
            })),
    }));
    return stringify({ groups }, { lineWidth: 0 });
}
