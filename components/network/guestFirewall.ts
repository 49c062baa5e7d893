// A guest's own firewall: inbound DROP by default, the environment baseline group, then the
// guest's listed inbound rules. Shared by the GPU VMs and the service containers.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { InboundRule } from "../../config/schema";

export interface GuestFirewallArgs {
    readonly nodeName: string;
    /** Exactly one of vmId (a VM) or containerId (an LXC). */
    readonly vmId?: pulumi.Input<number>;
    readonly containerId?: pulumi.Input<number>;
    /** The environment's baseline security group (see Network). */
    readonly securityGroup: pulumi.Input<string>;
    readonly inbound: readonly InboundRule[];
}

/** The guest's rule list, baseline group first. */
export function guestRules(securityGroup: pulumi.Input<string>, inbound: readonly InboundRule[]) {
    return [
        { securityGroup, comment: "environment baseline", enabled: true },
        ...inbound.map((r) => ({
            type: "in",
            action: "ACCEPT",
            proto: r.proto,
            dport: r.port,
            ...(r.source === "any" ? {} : { source: r.source }),
            comment: r.comment ?? `${r.proto}/${r.port} from ${r.source}`,
            enabled: true,
        })),
    ];
}

export class GuestFirewall extends pulumi.ComponentResource {
    public readonly options: proxmoxve.firewall.OptionsLegacy;
    public readonly rules: proxmoxve.firewall.RulesLegacy;

    constructor(name: string, args: GuestFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:network:GuestFirewall", name, {}, opts);
        const target = args.vmId !== undefined ? { vmId: args.vmId } : { containerId: args.containerId };

        this.options = new proxmoxve.firewall.OptionsLegacy(
            `${name}-options`,
            {
                nodeName: args.nodeName,
                ...target,
                enabled: true,
                inputPolicy: "DROP",
                outputPolicy: "ACCEPT",
                dhcp: true,
                ndp: true,
                macfilter: true,
                ipfilter: false,
                radv: false,
                logLevelIn: "nolog",
                logLevelOut: "nolog",
            },
            { parent: this },
        );
        this.rules = new proxmoxve.firewall.RulesLegacy(
            `${name}-rules`,
            { nodeName: args.nodeName, ...target, rules: guestRules(args.securityGroup, args.inbound) },
            { parent: this, dependsOn: [this.options] },
        );
        this.registerOutputs({});
    }
}
