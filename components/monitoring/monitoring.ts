// The monitoring components: the server (Prometheus, Alertmanager, Grafana) set up in its container
// over root SSH; node-exporter in every service container; and on each node the exporters with a
// read-only PVEAuditor token this program creates. Scripts go on stdin, so Pulumi keeps them secret.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { MonitoringServer } from "../../config/resolve/monitoring";
import { rootSsh, scriptCommand, ScriptSetup } from "../remoteScript";
import { ALERT_RULES } from "./alerts";
import { GRAFANA_PORT, PROMETHEUS_PORT, ReceiverSecrets } from "./configFiles";
import { DASHBOARDS } from "./dashboards";
import {
    PveToken,
    monitoringFiles,
    renderHostScript,
    renderMonitoringScript,
    renderNodeExporterScript,
} from "./scripts";

/** The server's secrets, held secret: Grafana's admin password, and the alert receiver's as configured. */
export interface MonitoringSecrets {
    readonly grafanaAdminPassword: pulumi.Output<string>;
    readonly receiver: { readonly [K in keyof ReceiverSecrets]?: pulumi.Output<string> };
}

/** What the server does, in one plain line (no secret). */
export function describeServer(server: MonitoringServer): string {
    const v = server.versions;
    return (
        `Prometheus ≥ ${v.prometheus} (${server.retentionDays} d / ${server.retentionSizeGiB} GiB), Alertmanager ≥ ${v.alertmanager}, ` +
        `Grafana ${v.grafana} (${DASHBOARDS.length} dashboards); ${server.targets.length} targets, ${ALERT_RULES.length} alert rules`
    );
}

export interface MonitoringServerArgs {
    readonly server: MonitoringServer;
    readonly sshPrivateKey: pulumi.Input<string>;
    readonly secrets: MonitoringSecrets;
    /** The container: it must run before anything is installed in it. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class MonitoringServerSetup extends ScriptSetup {
    public readonly urls: string[];

    constructor(name: string, args: MonitoringServerArgs, opts?: pulumi.ComponentResourceOptions) {
        const s = args.server;
        const { grafanaAdminPassword, receiver } = args.secrets;
        const description = describeServer(s);
        super(
            "ai-dualstack:monitoring:MonitoringServerSetup",
            name,
            {
                description,
                planLine: `installs and configures ${description} (script held secret: it carries the Grafana password and the alert receiver)`,
                connection: rootSsh(s.containerAddress, args.sshPrivateKey),
                stdin: pulumi
                    .all([grafanaAdminPassword, pulumi.all(receiver)])
                    .apply(([grafana, rec]) => renderMonitoringScript(s, monitoringFiles(s, rec, grafana), grafana)),
                dependsOn: args.dependsOn,
            },
            opts,
        );
        this.urls = [`http://${s.containerAddress}:${PROMETHEUS_PORT}`, `http://${s.containerAddress}:${GRAFANA_PORT}`];
        this.registerOutputs({ description: this.description, urls: this.urls });
    }
}

export interface NodeExporterArgs {
    readonly address: string;
    readonly version: string;
    /** Who may scrape it (the container's firewall holds the rule): for the plan's line. */
    readonly scrapedBy: string;
    readonly sshPrivateKey: pulumi.Input<string>;
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** Debian's prometheus-node-exporter in one service container. */
export class NodeExporterSetup extends pulumi.ComponentResource {
    public readonly setup: command.remote.Command;

    constructor(name: string, args: NodeExporterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:monitoring:NodeExporterSetup", name, {}, opts);
        this.setup = scriptCommand(
            `${name}-setup`,
            `installs prometheus-node-exporter ≥ ${args.version} (:9100, open to ${args.scrapedBy} only)`,
            {
                connection: rootSsh(args.address, args.sshPrivateKey),
                stdin: renderNodeExporterScript(args.version),
                secret: false,
            },
            { parent: this, dependsOn: args.dependsOn },
        );
        this.registerOutputs({});
    }
}

/** The read-only identity prometheus-pve-exporter uses: user, token and the built-in PVEAuditor role on "/". */
export const PVE_MONITORING_USER = "aids-monitoring@pve";
export const PVE_MONITORING_TOKEN = "monitoring";

export interface HostMonitoringArgs {
    readonly server: MonitoringServer;
    /** Each node: its name, the root SSH connection, and what must run first (the bootstrap). */
    readonly nodes: readonly {
        readonly name: string;
        readonly connection: command.types.input.remote.ConnectionArgs;
        readonly dependsOn: pulumi.Input<pulumi.Resource>[];
    }[];
}

export class HostMonitoring extends pulumi.ComponentResource {
    public readonly token: proxmoxve.user.Token;
    public readonly setups: command.remote.Command[];

    constructor(name: string, args: HostMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:monitoring:HostMonitoring", name, {}, opts);
        const child = { parent: this };
        const user = new proxmoxve.UserLegacy(
            `${name}-user`,
            {
                userId: PVE_MONITORING_USER,
                enabled: true,
                comment: "ai-dualstack monitoring: read-only, for prometheus-pve-exporter",
            },
            child,
        );
        this.token = new proxmoxve.user.Token(
            `${name}-token`,
            {
                userId: PVE_MONITORING_USER,
                tokenName: PVE_MONITORING_TOKEN,
                privilegesSeparation: true,
                comment: "ai-dualstack monitoring (PVEAuditor)",
            },
            { ...child, dependsOn: [user], additionalSecretOutputs: ["value"] },
        );
        const acls = (["user", "token"] as const).map(
            (who) =>
                new proxmoxve.Acl(
                    `${name}-acl-${who}`,
                    {
                        path: "/",
                        propagate: true,
                        roleId: "PVEAuditor",
                        ...(who === "user"
                            ? { userId: PVE_MONITORING_USER }
                            : { tokenId: `${PVE_MONITORING_USER}!${PVE_MONITORING_TOKEN}` }),
                    },
                    { ...child, dependsOn: [user, this.token] },
                ),
        );
        // The provider returns the token's secret alone or as user!name=secret; the exporter wants the secret.
        // Undefined when the token was not created in this run (`pulumi up --target` elsewhere).
        const value = this.token.value.apply((v: string | undefined) =>
            v === undefined ? "" : v.includes("=") ? (v.split("=")[1] ?? "") : v,
        );
        this.setups = args.nodes.map((node) => this.nodeSetup(name, node, args.server, value, acls));
        this.registerOutputs({});
    }

    /** The exporters on one node, once the token and its ACLs exist. */
    private nodeSetup(
        name: string,
        node: HostMonitoringArgs["nodes"][number],
        server: MonitoringServer,
        value: pulumi.Output<string>,
        acls: pulumi.Resource[],
    ): command.remote.Command {
        const stdin = value.apply((secret) => {
            const token: PveToken = { user: PVE_MONITORING_USER, name: PVE_MONITORING_TOKEN, value: secret };
            return renderHostScript(node.name, server, token);
        });
        const v = server.versions;
        return scriptCommand(
            `${name}-${node.name}-setup`,
            `installs prometheus-node-exporter ≥ ${v.nodeExporter} (ZFS collector, pool-status textfile every 5 min) and prometheus-pve-exporter ${v.pveExporter} (PVEAuditor token); node firewall admits ${server.containerAddress} to 9100 and 9221`,
            { connection: node.connection, stdin },
            { parent: this, dependsOn: [...node.dependsOn, ...acls] },
        );
    }
}
