// One environment's network: its bridges and VLAN interfaces on each node, and the firewall
// baseline its guests join, with the IP sets its rules name. The host takes no address on these
// bridges, and the management bridge is never touched.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { FirewallIpset, FirewallRule } from "../../config/policy";
import { BridgeModel } from "../../config/resolve";
import { EnvironmentName } from "../../config/schema";

export interface NetworkNodeArgs {
    readonly nodeName: string;
    readonly provider: proxmoxve.Provider;
    /** Only the bridges this environment owns on the node. */
    readonly bridges: readonly BridgeModel[];
}

export interface NetworkArgs {
    readonly environment: EnvironmentName;
    /** The baseline every guest joins on top of inbound DROP: the environment policy's rules. */
    readonly baseline: readonly FirewallRule[];
    /** The cluster IP sets the baseline's rules name ("+name"): the environment policy's. */
    readonly ipsets?: readonly FirewallIpset[];
    /** The nodes where the environment has guests; the first one's provider holds the cluster-wide group. */
    readonly nodes: readonly NetworkNodeArgs[];
    /** What the bridges wait for: the host check, which refuses pending changes a reload would apply. */
    readonly dependsOn?: pulumi.Resource[];
}

/** The security group name of an environment's baseline (Proxmox caps group names short). */
export function baselineGroupName(env: EnvironmentName): string {
    return `aids-${env}`;
}

export class Network extends pulumi.ComponentResource {
    /** Bridge name → resource, per node: `bridges[node][vmbrN]`. */
    public readonly bridges: Record<string, Record<string, proxmoxve.network.linux.Bridge>> = {};
    public readonly vlans: proxmoxve.network.linux.Vlan[] = [];
    public readonly securityGroup: proxmoxve.cluster.firewall.security.GroupLegacy;
    public readonly securityGroupName: string;
    public readonly ipsets: proxmoxve.firewall.IpsetLegacy[];

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:network:Network", name, {}, opts);
        const first = args.nodes[0];
        if (!first) {
            throw new Error(`Network ${name}: the ${args.environment} environment has no node to build on`);
        }

        for (const node of args.nodes) {
            this.bridges[node.nodeName] = {};
            for (const bridge of node.bridges) this.addBridge(name, node, bridge, args);
        }

        // Cluster-wide (no node, no guest): the baseline names them, so they exist before it.
        this.ipsets = (args.ipsets ?? []).map(
            (set) =>
                new proxmoxve.firewall.IpsetLegacy(
                    `${name}-ipset-${set.name}`,
                    {
                        name: set.name,
                        comment: set.comment,
                        cidrs: set.cidrs.map((c) => ({ ...c })),
                    },
                    { parent: this, provider: first.provider },
                ),
        );
        this.securityGroupName = baselineGroupName(args.environment);
        this.securityGroup = new proxmoxve.cluster.firewall.security.GroupLegacy(
            `${name}-baseline`,
            {
                name: this.securityGroupName,
                comment: `ai-dualstack ${args.environment} baseline: inbound denied unless listed`,
                rules: args.baseline.map((r) => ({ ...r, enabled: true })),
            },
            { parent: this, provider: first.provider, dependsOn: this.ipsets },
        );

        this.registerOutputs({ securityGroupName: this.securityGroupName });
    }

    /** A bridge on its uplink, or on a VLAN interface of it when the bridge has a tag. */
    private addBridge(name: string, node: NetworkNodeArgs, bridge: BridgeModel, args: NetworkArgs): void {
        const { nodeName, provider } = node;
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
        (this.bridges[nodeName] as Record<string, proxmoxve.network.linux.Bridge>)[bridge.name] =
            new proxmoxve.network.linux.Bridge(
                `${name}-${nodeName}-${bridge.name}`,
                {
                    nodeName,
                    name: bridge.name,
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
