// A guest's network: its bridge, and "10.10.10.10/24" followed once to { ip, prefix }.

import { Ipv4Address, parseAddress } from "../../lib/ipv4";
import { GuestNetworkConfig } from "../schema";

export interface GuestNetworkModel {
    readonly bridge: string;
    /** The static address; undefined for DHCP. */
    readonly address?: Ipv4Address;
    readonly macAddress?: string;
}

export function resolveNetwork(network: GuestNetworkConfig): GuestNetworkModel {
    return {
        bridge: network.bridge,
        ...(network.address === "dhcp" ? {} : { address: parseAddress(network.address) }),
        ...(network.macAddress ? { macAddress: network.macAddress } : {}),
    };
}
