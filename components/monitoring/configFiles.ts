// The files the monitoring container runs from, rendered from the resolved monitoring model: the
// Prometheus config (one job per exporter kind, each target with its environment, guest and GPU
// labels), Alertmanager's route to the receiver, and Grafana's provisioned datasource and dashboards.
// Plain functions: the tests feed the output to promtool and amtool.

import { stringify } from "yaml";
import { ExporterJob, MonitoringServer, ScrapeTarget } from "../../config/resolve/monitoring";

export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
export const GRAFANA_PORT = 3000;

/** Where the set-up puts each file in the container (Debian's packages' own paths). */
export const PATHS = {
    prometheusConfig: "/etc/prometheus/prometheus.yml",
    rules: "/etc/prometheus/rules/aidualstack.yml",
    alertmanagerConfig: "/etc/prometheus/alertmanager.yml",
    grafanaIni: "/etc/grafana/grafana.ini",
    grafanaDatasources: "/etc/grafana/provisioning/datasources/aidualstack.yaml",
    grafanaDashboards: "/etc/grafana/provisioning/dashboards/aidualstack.yaml",
    dashboardDir: "/var/lib/grafana/dashboards/aidualstack",
} as const;

/** Query parameters of a job: prometheus-pve-exporter reads its own node and the cluster. */
const JOB_PARAMS: Partial<Record<ExporterJob, Record<string, string[]>>> = {
    pve: { target: ["localhost"], cluster: ["1"], node: ["1"] },
};

function staticConfigs(targets: readonly ScrapeTarget[]) {
    return targets.map((t) => ({
        targets: [t.address],
        labels: {
            environment: t.labels.environment,
            guest: t.labels.guest,
            guest_type: t.labels.guest_type,
            ...(t.labels.gpu ? { gpu: t.labels.gpu } : {}),
            ...(t.metricsPath !== "/metrics" ? { __metrics_path__: t.metricsPath } : {}),
        },
    }));
}

export interface PrometheusFileOptions {
    /** Rule files to load (the container's path by default; the tests point at a temporary copy). */
    readonly ruleFiles?: readonly string[];
    /** host:port of Alertmanager. */
    readonly alertmanager?: string;
}

/** prometheus.yml: self, Alertmanager and Grafana on loopback, then one job per exporter kind. */
export function renderPrometheusConfig(server: MonitoringServer, opts: PrometheusFileOptions = {}): string {
    const self = (job: string, port: number, path = "/metrics") => ({
        job_name: job,
        metrics_path: path,
        static_configs: [
            {
                targets: [`localhost:${port}`],
                labels: { environment: "monitoring", guest: server.container, guest_type: "container" },
            },
        ],
    });
    const jobs = [...new Set(server.targets.map((t) => t.job))].map((job) => ({
        job_name: job,
        ...(JOB_PARAMS[job] ? { params: JOB_PARAMS[job] } : {}),
        static_configs: staticConfigs(server.targets.filter((t) => t.job === job)),
    }));
    return stringify(
        {
            global: {
                scrape_interval: `${server.scrapeIntervalSeconds}s`,
                evaluation_interval: `${server.scrapeIntervalSeconds}s`,
                external_labels: { monitor: "ai-dualstack" },
            },
            rule_files: [...(opts.ruleFiles ?? [PATHS.rules])],
            alerting: {
                alertmanagers: [
                    { static_configs: [{ targets: [opts.alertmanager ?? `localhost:${ALERTMANAGER_PORT}`] }] },
                ],
            },
            scrape_configs: [
                self("prometheus", PROMETHEUS_PORT),
                self("alertmanager", ALERTMANAGER_PORT),
                self("grafana", GRAFANA_PORT),
                ...jobs,
            ],
        },
        { lineWidth: 0 },
    );
}

/** The receiver's secret values, by the names the config gives them. */
export interface ReceiverSecrets {
    readonly webhookUrl?: string;
    readonly smtpUsername?: string;
    readonly smtpPassword?: string;
}

/** alertmanager.yml: every alert to the one receiver, grouped per alert and guest, resolved ones too. */
export function renderAlertmanagerConfig(
    server: Pick<MonitoringServer, "alertReceiver">,
    secrets: ReceiverSecrets,
): string {
    const r = server.alertReceiver;
    const receiver = r.email
        ? {
              name: "operator",
              email_configs: [
                  {
                      to: r.email.to,
                      from: r.email.from,
                      smarthost: r.email.smarthost,
                      ...(secrets.smtpUsername !== undefined ? { auth_username: secrets.smtpUsername } : {}),
                      ...(secrets.smtpPassword !== undefined ? { auth_password: secrets.smtpPassword } : {}),
                      require_tls: true,
                      send_resolved: true,
                  },
              ],
          }
        : { name: "operator", webhook_configs: [{ url: secrets.webhookUrl ?? "", send_resolved: true }] };
    return stringify(
        {
            route: {
                receiver: "operator",
                group_by: ["alertname", "environment", "guest"],
                group_wait: "30s",
                group_interval: "5m",
                repeat_interval: "4h",
            },
            // A guest that is down explains its other alerts: only TargetDown is sent for it.
            inhibit_rules: [
                {
                    source_matchers: ['alertname="TargetDown"'],
                    target_matchers: ['alertname!="TargetDown"'],
                    equal: ["guest"],
                },
            ],
            receivers: [receiver],
        },
        { lineWidth: 0 },
    );
}

/** Grafana's datasource: the Prometheus beside it, with a fixed uid the dashboards name. */
export const DATASOURCE_UID = "aidualstack-prometheus";

export function renderGrafanaDatasources(): string {
    return stringify({
        apiVersion: 1,
        datasources: [
            {
                name: "Prometheus",
                uid: DATASOURCE_UID,
                type: "prometheus",
                access: "proxy",
                url: `http://localhost:${PROMETHEUS_PORT}`,
                isDefault: true,
                editable: false,
            },
        ],
    });
}

export function renderGrafanaDashboardProvider(): string {
    return stringify({
        apiVersion: 1,
        providers: [
            {
                name: "ai-dualstack",
                folder: "ai-dualstack",
                type: "file",
                disableDeletion: true,
                allowUiUpdates: false,
                options: { path: PATHS.dashboardDir },
            },
        ],
    });
}

/** grafana.ini: the admin password (first start; the set-up resets it on every run), no sign-up, no telemetry. */
export function renderGrafanaIni(adminPassword: string): string {
    const quoted = `"""${adminPassword}"""`;
    return [
        "; Rendered by ai-dualstack (components/monitoring). Do not edit in the container.",
        "[server]",
        `http_port = ${GRAFANA_PORT}`,
        "[security]",
        "admin_user = admin",
        `admin_password = ${quoted}`,
        "disable_gravatar = true",
        "[users]",
        "allow_sign_up = false",
        "[auth.anonymous]",
        "enabled = false",
        "[analytics]",
        "reporting_enabled = false",
        "check_for_updates = false",
        "check_for_plugin_updates = false",
        "",
    ].join("\n");
}

/** Prometheus's and Alertmanager's command-line arguments (Debian's /etc/default files). */
export function prometheusArgs(server: Pick<MonitoringServer, "retentionDays" | "retentionSizeGiB">): string {
    return [
        `--config.file=${PATHS.prometheusConfig}`,
        `--storage.tsdb.retention.time=${server.retentionDays}d`,
        `--storage.tsdb.retention.size=${server.retentionSizeGiB}GB`,
        `--web.listen-address=:${PROMETHEUS_PORT}`,
    ].join(" ");
}

export function alertmanagerArgs(): string {
    // Loopback only, and no gossip port: one Alertmanager, reached by the Prometheus beside it.
    return [
        `--config.file=${PATHS.alertmanagerConfig}`,
        `--web.listen-address=127.0.0.1:${ALERTMANAGER_PORT}`,
        "--cluster.listen-address=",
    ].join(" ");
}
