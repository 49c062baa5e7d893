// One environment's network: its bridges and VLAN interfaces on each node, and the firewall
// baseline its guests join. The host takes no address on these bridges, and the management
// bridge is never touched.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { BridgeConfig, EnvironmentConfig, EnvironmentName } from "../config/schema";

export interface NetworkNodeArgs {
    readonly nodeName: string;
    readonly provider: proxmoxve.Provider;
    /** Only the bridges this environment owns on the node. */
    readonly bridges: Readonly<Record<string, BridgeConfig>>;
}

export interface NetworkArgs {
    readonly environment: EnvironmentName;
    readonly config: EnvironmentConfig;
    /** The nodes where the environment has guests; the first one's provider holds the cluster-wide group. */
    readonly nodes: readonly NetworkNodeArgs[];
    /** What the bridges wait for: the host check, which refuses pending changes a reload would apply. */
    readonly dependsOn?: pulumi.Resource[];
}

export interface FirewallRule {
    type: "in" | "out";
    action: "ACCEPT" | "DROP" | "REJECT";
    proto?: string;
    dport?: string;
    source?: string;
    macro?: string;
    comment: string;
}

/** The security group name of an environment's baseline (Proxmox caps group names short). */
export function baselineGroupName(env: EnvironmentName): string {
    return `aids-${env}`;
}

/**
 * The baseline every guest of an environment joins, on top of a DROP input policy. Guests of the
 * same environment reach each other. Private: its trusted LAN/VPN networks reach it, nothing else. Public: trusted networks may
 * administer it over SSH and ping it; what it publishes is added per guest.
 */
export function baselineRules(env: EnvironmentName, config: EnvironmentConfig): FirewallRule[] {
    const sources = config.network.trustedSources;
    const ownGuests: FirewallRule = {
        type: "in",
        action: "ACCEPT",
        source: config.network.cidr,
        comment: `${env} guests reach each other`,
    };
    if (env === "private") {
        return [
            ownGuests,
            ...sources.map((source): FirewallRule => ({
                type: "in",
                action: "ACCEPT",
                source,
                comment: `LAN/VPN ${source}`,
            })),
        ];
    }
    return [
        ownGuests,
        ...sources.flatMap((source): FirewallRule[] => [
            { type: "in", action: "ACCEPT", proto: "tcp", dport: "22", source, comment: `SSH from ${source}` },
            { type: "in", action: "ACCEPT", macro: "Ping", source, comment: `ping from ${source}` },
        ]),
    ];
}

export class Network extends pulumi.ComponentResource {
    /** Bridge name → resource, per node: `bridges[node][vmbrN]`. */
    public readonly bridges: Record<string, Record<string, proxmoxve.network.linux.Bridge>> = {};
    public readonly vlans: proxmoxve.network.linux.Vlan[] = [];
    public readonly securityGroup: proxmoxve.cluster.firewall.security.GroupLegacy;
    public readonly securityGroupName: string;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:network:Network", name, {}, opts);
        const first = args.nodes[0];
        if (!first) {
            throw new Error(`Network ${name}: the ${args.environment} environment has no node to build on`);
        }

        for (const { nodeName, provider, bridges } of args.nodes) {
            this.bridges[nodeName] = {};
            for (const [bridgeName, bridge] of Object.entries(bridges)) {
                const childOpts = { parent: this, provider, dependsOn: args.dependsOn ?? [] };
                let port = bridge.uplink;
                let vlan: proxmoxve.network.linux.Vlan | undefined;
                if (bridge.uplink !== undefined && bridge.vlan !== undefined) {
                    port = `${bridge.uplink}.${bridge.vlan}`;
                    vlan = new proxmoxve.network.linux.Vlan(
                        `${name}-${nodeName}-${port}`,
                        {
                            nodeName,
                            // The "<uplink>.<tag>" form: the provider then needs no interface or vlan.
                            name: port,
                            autostart: true,
                            comment: `ai-dualstack ${args.environment}`,
                        },
                        childOpts,
                    );
                    this.vlans.push(vlan);
                }
                this.bridges[nodeName][bridgeName] = new proxmoxve.network.linux.Bridge(
                    `${name}-${nodeName}-${bridgeName}`,
                    {
                        nodeName,
                        name: bridgeName,
                        ports: port === undefined ? [] : [port],
                        autostart: true,
                        vlanAware: false,
                        ...(bridge.mtu === undefined ? {} : { mtu: bridge.mtu }),
                        comment: bridge.comment ?? `ai-dualstack ${args.environment}`,
                    },
                    { ...childOpts, dependsOn: [...childOpts.dependsOn, ...(vlan ? [vlan] : [])] },
                );
            }
        }

        this.securityGroupName = baselineGroupName(args.environment);
        this.securityGroup = new proxmoxve.cluster.firewall.security.GroupLegacy(
            `${name}-baseline`,
            {
                name: this.securityGroupName,
                comment: `ai-dualstack ${args.environment} baseline: inbound denied unless listed`,
                rules: baselineRules(args.environment, args.config).map((r) => ({ ...r, enabled: true })),
            },
            { parent: this, provider: first.provider },
        );

        this.registerOutputs({ securityGroupName: this.securityGroupName });
    }
}
