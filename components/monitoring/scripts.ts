// The monitoring set-up scripts, rendered: their pinned versions and managed files in the header, the
// shared helpers (scripts/lib-files.sh) and the body. Plain functions; the tests run shellcheck on
// the output and run the scripts against a sandbox.

import { MonitoringServer } from "../../config/resolve/monitoring";
import { GRAFANA_APT_KEY, pinnedKeyCommand } from "../../lib/aptKeys";
import { PKG_FLOOR, loadScript, renderScript, shellQuote } from "../../lib/scripts";
import { renderAlertRules } from "./alerts";
import {
    PATHS,
    ReceiverSecrets,
    alertmanagerArgs,
    prometheusArgs,
    renderAlertmanagerConfig,
    renderGrafanaDashboardProvider,
    renderGrafanaDatasources,
    renderGrafanaIni,
    renderPrometheusConfig,
} from "./configFiles";
import { renderDashboards } from "./dashboards";

const LIB = loadScript(__dirname, "lib-files.sh");
const COMMENT = "Rendered by ai-dualstack (components/monitoring). Do not edit in the guest.";
export const ZPOOL_TEXTFILE = loadScript(__dirname, "zpool-textfile.sh");
export const XID_TEXTFILE = loadScript(__dirname, "xid-textfile.sh");

/** A file the set-up manages: written only when its content differs. */
export interface ManagedFile {
    readonly path: string;
    readonly mode: string;
    readonly owner: string;
    readonly content: string;
}

function filesLine(files: readonly ManagedFile[]): string {
    const entries = files.map((f) =>
        shellQuote(`${f.path} ${f.mode} ${f.owner} ${Buffer.from(f.content, "utf8").toString("base64")}`),
    );
    return `AIDS_FILES=(${entries.join(" ")})`;
}

const args = (value: string) => `# Rendered by ai-dualstack.\nARGS=${shellQuote(value)}`;

/** Every file of the monitoring container: configs, rules, Grafana's provisioning and dashboards. */
export function monitoringFiles(
    server: MonitoringServer,
    receiver: ReceiverSecrets,
    grafanaPassword: string,
): ManagedFile[] {
    const file = (path: string, content: string, owner = "root:root", mode = "0644"): ManagedFile => ({
        path,
        mode,
        owner,
        content,
    });
    return [
        file(PATHS.prometheusConfig, renderPrometheusConfig(server)),
        file(PATHS.rules, renderAlertRules()),
        file(PATHS.alertmanagerConfig, renderAlertmanagerConfig(server, receiver), "root:prometheus", "0640"),
        file("/etc/default/prometheus", args(prometheusArgs(server))),
        file("/etc/default/prometheus-alertmanager", args(alertmanagerArgs())),
        file(
            "/etc/default/prometheus-node-exporter",
            args("--collector.textfile.directory=/var/lib/prometheus/node-exporter"),
        ),
        file(PATHS.grafanaIni, renderGrafanaIni(grafanaPassword), "root:grafana", "0640"),
        file(PATHS.grafanaDatasources, renderGrafanaDatasources(), "root:grafana", "0640"),
        file(PATHS.grafanaDashboards, renderGrafanaDashboardProvider(), "root:grafana", "0640"),
        ...Object.entries(renderDashboards()).map(([name, json]) =>
            file(`${PATHS.dashboardDir}/${name}`, json, "root:grafana"),
        ),
    ];
}

/** Grafana's apt repository: the set-up names it when it cannot be reached. */
export const GRAFANA_REPO_URL = "https://apt.grafana.com";

/** Grafana's repository, added only with its pinned key (lib/aptKeys.ts); paths under AIDS_ROOT in the tests. */
const GRAFANA_REPO = pinnedKeyCommand(
    GRAFANA_APT_KEY,
    {
        keyring: "/etc/apt/keyrings/grafana.gpg",
        list: "/etc/apt/sources.list.d/grafana.list",
        line: `deb [signed-by=/etc/apt/keyrings/grafana.gpg] ${GRAFANA_REPO_URL} stable main`,
    },
    "${AIDS_ROOT:-}",
);

export function renderMonitoringScript(
    server: MonitoringServer,
    files: readonly ManagedFile[],
    grafanaPassword: string,
): string {
    const v = server.versions;
    return renderScript(
        COMMENT,
        {
            AIDS_PROMETHEUS_VERSION: v.prometheus,
            AIDS_ALERTMANAGER_VERSION: v.alertmanager,
            AIDS_NODE_EXPORTER_VERSION: v.nodeExporter,
            AIDS_GRAFANA_VERSION: v.grafana,
            AIDS_GRAFANA_PASSWORD: grafanaPassword,
            AIDS_GRAFANA_REPO_URL: GRAFANA_REPO_URL,
            // Base64: a command inside a single-quoted value would read as one to shellcheck.
            AIDS_GRAFANA_REPO_B64: Buffer.from(GRAFANA_REPO, "utf8").toString("base64"),
        },
        `${PKG_FLOOR}\n${LIB}\n${loadScript(__dirname, "monitoring-setup.sh")}`,
        [filesLine(files)],
    );
}

export function renderNodeExporterScript(version: string): string {
    return renderScript(
        COMMENT,
        { AIDS_NODE_EXPORTER_VERSION: version },
        `${PKG_FLOOR}\n${LIB}\n${loadScript(__dirname, "node-exporter-setup.sh")}`,
    );
}

// ProtectSystem=strict leaves no writable /tmp, and pve_exporter needs one at start (Python's tempfile, or
// it exits "No usable temporary directory"): a private one.
const PVE_EXPORTER_UNIT = `[Unit]
Description=prometheus-pve-exporter (ai-dualstack): Proxmox VE metrics with a read-only PVEAuditor token
After=network-online.target pveproxy.service

[Service]
User=prometheus
ExecStart=/opt/aidualstack/pve-exporter/bin/pve_exporter --config.file /etc/prometheus/pve.yml --web.listen-address [::]:9221
Restart=on-failure
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
`;

const ZPOOL_SERVICE = `[Unit]
Description=ZFS pool status as node-exporter textfile metrics (ai-dualstack)

[Service]
Type=oneshot
ExecStart=/usr/local/lib/aidualstack/zpool-textfile.sh
`;

const ZPOOL_TIMER = `[Unit]
Description=ZFS pool status every 5 minutes (ai-dualstack)

[Timer]
OnBootSec=1min
OnUnitActiveSec=5min

[Install]
WantedBy=timers.target
`;

/** The read-only token prometheus-pve-exporter logs in with. */
export interface PveToken {
    readonly user: string;
    readonly name: string;
    /** The token's secret (the uuid part). */
    readonly value: string;
}

export function hostFiles(token: PveToken): ManagedFile[] {
    const pveYml = [
        "# Rendered by ai-dualstack: a read-only (PVEAuditor) token.",
        "default:",
        `  user: ${token.user}`,
        `  token_name: ${token.name}`,
        `  token_value: ${token.value}`,
        "  verify_ssl: false",
    ].join("\n");
    return [
        {
            path: "/etc/default/prometheus-node-exporter",
            mode: "0644",
            owner: "root:root",
            content: args("--collector.zfs --collector.textfile.directory=/var/lib/prometheus/node-exporter"),
        },
        { path: "/etc/prometheus/pve.yml", mode: "0640", owner: "root:prometheus", content: pveYml },
        {
            path: "/etc/systemd/system/aidualstack-pve-exporter.service",
            mode: "0644",
            owner: "root:root",
            content: PVE_EXPORTER_UNIT,
        },
        {
            path: "/usr/local/lib/aidualstack/zpool-textfile.sh",
            mode: "0755",
            owner: "root:root",
            content: ZPOOL_TEXTFILE,
        },
        {
            path: "/etc/systemd/system/aidualstack-zpool-textfile.service",
            mode: "0644",
            owner: "root:root",
            content: ZPOOL_SERVICE,
        },
        {
            path: "/etc/systemd/system/aidualstack-zpool-textfile.timer",
            mode: "0644",
            owner: "root:root",
            content: ZPOOL_TIMER,
        },
    ];
}

export function renderHostScript(
    node: string,
    server: Pick<MonitoringServer, "versions" | "containerAddress">,
    token: PveToken,
): string {
    return renderScript(
        COMMENT,
        {
            AIDS_NODE: node,
            AIDS_NODE_EXPORTER_VERSION: server.versions.nodeExporter,
            AIDS_PVE_EXPORTER_VERSION: server.versions.pveExporter,
            AIDS_MONITORING_SOURCE: server.containerAddress,
        },
        `${PKG_FLOOR}\n${LIB}\n${loadScript(__dirname, "host-monitoring-setup.sh")}`,
        [filesLine(hostFiles(token))],
    );
}
