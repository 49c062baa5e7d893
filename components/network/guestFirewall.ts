// A guest's own firewall: inbound DROP by default, outbound as the environment's policy says, the
// environment baseline group, then the guest's listed inbound rules; and anti-spoofing (ipfilter):
// the guest sends only from its own address. Shared by the GPU VMs and the service containers.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { FirewallRule, GuestFirewallPolicy } from "../../config/policy";
import { InboundRule } from "../../config/schema";

/** The IP set Proxmox's ipfilter reads for a guest's first interface. */
export const IPFILTER_SET = "ipfilter-net0";

export interface GuestFirewallArgs {
    readonly nodeName: string;
    /** Exactly one of vmId (a VM) or containerId (an LXC). */
    readonly vmId?: pulumi.Input<number>;
    readonly containerId?: pulumi.Input<number>;
    /** The environment's baseline security group (see Network). */
    readonly securityGroup: pulumi.Input<string>;
    readonly inbound: readonly InboundRule[];
    /** The environment policy's outbound default and anti-spoofing. */
    readonly policy: GuestFirewallPolicy;
    /**
     * The guest's static address; undefined for DHCP, where ipfilter stays off (the address it
     * would allow is not known).
     */
    readonly address?: string;
    /** Outbound rules of the guest's own (the CI/CD runner's), in order; the policy's outputPolicy follows them. */
    readonly outbound?: readonly FirewallRule[];
    /**
     * Networks the guest routes for (a VPN it serves): ipfilter lets it send from them too, and a
     * container then gets the ipfilter set that a VM always has.
     */
    readonly forwards?: readonly string[];
}

/** The firewall args of a guest: its node, inbound rules and address, and its environment's wiring. */
export function guestFirewallArgs(
    target: { vmId: pulumi.Input<number> } | { containerId: pulumi.Input<number> },
    guest: {
        node: string;
        inbound: readonly InboundRule[];
        address?: string;
        outbound?: { outputPolicy: "ACCEPT" | "DROP"; rules: readonly FirewallRule[] };
        forwards?: readonly string[];
    },
    wiring: { securityGroup: pulumi.Input<string>; firewallPolicy: GuestFirewallPolicy },
): GuestFirewallArgs {
    const { outputPolicy, ipfilter } = wiring.firewallPolicy;
    return {
        nodeName: guest.node,
        ...target,
        securityGroup: wiring.securityGroup,
        inbound: guest.inbound,
        policy: { ipfilter, outputPolicy: guest.outbound?.outputPolicy ?? outputPolicy },
        ...(guest.address ? { address: guest.address } : {}),
        ...(guest.outbound ? { outbound: guest.outbound.rules } : {}),
        ...(guest.forwards && guest.forwards.length > 0 ? { forwards: guest.forwards } : {}),
    };
}

/** The guest's rule list, baseline group first. */
export function guestRules(
    securityGroup: pulumi.Input<string>,
    inbound: readonly InboundRule[],
    outbound: readonly FirewallRule[] = [],
) {
    return [
        { securityGroup, comment: "environment baseline", enabled: true },
        ...outbound.map((r) => ({ ...r, enabled: true })),
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
    /** The allowed source addresses for ipfilter: a VM's, or a container's that routes for a VPN. */
    public readonly ipfilterSet?: proxmoxve.firewall.IpsetLegacy;

    constructor(name: string, args: GuestFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:network:GuestFirewall", name, {}, opts);
        const target = args.vmId !== undefined ? { vmId: args.vmId } : { containerId: args.containerId };
        const ipfilter = args.policy.ipfilter && args.address !== undefined;

        // With ipfilter on and no set, Proxmox lets a VM send from its IPv6 link-local address alone;
        // a container's configured address counts without one, unless it forwards for others.
        const forwards = args.forwards ?? [];
        if (ipfilter && (args.vmId !== undefined || forwards.length > 0)) {
            this.ipfilterSet = new proxmoxve.firewall.IpsetLegacy(
                `${name}-ipfilter`,
                {
                    nodeName: args.nodeName,
                    ...target,
                    name: IPFILTER_SET,
                    comment:
                        forwards.length > 0
                            ? "ai-dualstack: the source addresses net0 may send from (its own, and the networks it routes for)"
                            : "ai-dualstack: the only source address net0 may send from",
                    cidrs: [{ name: args.address }, ...forwards.map((name) => ({ name }))],
                },
                { parent: this },
            );
        }
        // Rules first, then the options that switch the firewall on with them in place.
        this.rules = new proxmoxve.firewall.RulesLegacy(
            `${name}-rules`,
            { nodeName: args.nodeName, ...target, rules: guestRules(args.securityGroup, args.inbound, args.outbound) },
            { parent: this },
        );
        this.options = new proxmoxve.firewall.OptionsLegacy(
            `${name}-options`,
            {
                nodeName: args.nodeName,
                ...target,
                enabled: true,
                inputPolicy: "DROP",
                outputPolicy: args.policy.outputPolicy,
                dhcp: true,
                ndp: true,
                macfilter: true,
                ipfilter,
                radv: false,
                logLevelIn: "nolog",
                logLevelOut: "nolog",
            },
            { parent: this, dependsOn: [this.rules, ...(this.ipfilterSet ? [this.ipfilterSet] : [])] },
        );
        this.registerOutputs({});
    }
}
