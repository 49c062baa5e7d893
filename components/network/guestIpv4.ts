// What the GPU VMs and the service containers take alike from the environment's network: the
// bridge, the gateway and DNS, the baseline group and the firewall policy, and the IPv4 block.

import * as pulumi from "@pulumi/pulumi";
import { GuestFirewallPolicy } from "../../config/policy";
import { GuestNetworkModel } from "../../config/resolve";
import { formatAddress } from "../../lib/ipv4";

/** DHCP, or the static address with the environment's gateway. */
export function guestIpv4(network: GuestNetworkModel, gateway: string): { address: string; gateway?: string } {
    return network.address === undefined ? { address: "dhcp" } : { address: formatAddress(network.address), gateway };
}

/** A guest's wiring into its environment's network. */
export interface GuestNetworkArgs {
    readonly bridge: pulumi.Input<string>;
    readonly gateway: string;
    readonly dns: readonly string[];
    /** The environment's baseline security group (see Network). */
    readonly securityGroup: pulumi.Input<string>;
    /** The environment policy's outbound default and anti-spoofing. */
    readonly firewallPolicy: GuestFirewallPolicy;
}
