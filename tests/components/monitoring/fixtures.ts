// What the monitoring tests share: the committed private stack's monitoring server, and sample
// textfiles in the formats agreed with the throughput probe and the backup jobs.

import { MonitoringServer } from "../../../config/resolve/monitoring";
import { stackModel } from "../../helpers/config";

export function monitoringServer(): MonitoringServer {
    const server = stackModel("private").monitoring?.server;
    if (!server) throw new Error("the committed private stack has no monitoring server");
    return server;
}

/** The throughput probe's textfile, labels {model, gpu, vm}, as the probe writes it. */
export function probeTextfile(now: number): string {
    const l = '{model="qwen2.5:14b",gpu="rtx5090",vm="private-ai"}';
    return [
        "# HELP aidualstack_model_tokens_per_second Measured decode speed of the model.",
        "# TYPE aidualstack_model_tokens_per_second gauge",
        `aidualstack_model_tokens_per_second${l} 142.5`,
        "# HELP aidualstack_model_min_tokens_per_second The gate's threshold for the model.",
        "# TYPE aidualstack_model_min_tokens_per_second gauge",
        `aidualstack_model_min_tokens_per_second${l} 50`,
        "# HELP aidualstack_model_in_vram 1 when the model is wholly in VRAM.",
        "# TYPE aidualstack_model_in_vram gauge",
        `aidualstack_model_in_vram${l} 1`,
        "# HELP aidualstack_model_roofline_efficiency Measured speed over the memory-bandwidth roofline.",
        "# TYPE aidualstack_model_roofline_efficiency gauge",
        `aidualstack_model_roofline_efficiency${l} 0.716`,
        "# HELP aidualstack_model_probe_last_run_timestamp_seconds When the probe last ran.",
        "# TYPE aidualstack_model_probe_last_run_timestamp_seconds gauge",
        `aidualstack_model_probe_last_run_timestamp_seconds${l} ${now}`,
        "# HELP aidualstack_model_probe_last_success_timestamp_seconds When the probe last measured the model.",
        "# TYPE aidualstack_model_probe_last_success_timestamp_seconds gauge",
        `aidualstack_model_probe_last_success_timestamp_seconds${l} ${now}`,
        "# HELP aidualstack_model_probe_success 1 when the last probe measured the model.",
        "# TYPE aidualstack_model_probe_success gauge",
        `aidualstack_model_probe_success${l} 1`,
        "",
    ].join("\n");
}

/** A backup job's textfile, labels {backup, kind}. */
export function backupTextfile(now: number): string {
    const l = '{backup="pg-openwebui",kind="pg_dump"}';
    return [
        "# HELP aidualstack_backup_last_run_timestamp_seconds When the backup last ran.",
        "# TYPE aidualstack_backup_last_run_timestamp_seconds gauge",
        `aidualstack_backup_last_run_timestamp_seconds${l} ${now}`,
        "# HELP aidualstack_backup_last_run_success 1 when the last run succeeded.",
        "# TYPE aidualstack_backup_last_run_success gauge",
        `aidualstack_backup_last_run_success${l} 1`,
        "# HELP aidualstack_backup_last_success_timestamp_seconds When the backup last succeeded.",
        "# TYPE aidualstack_backup_last_success_timestamp_seconds gauge",
        `aidualstack_backup_last_success_timestamp_seconds${l} ${now}`,
        "",
    ].join("\n");
}
