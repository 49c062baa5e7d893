// A guest's network: its bridge, and "10.10.10.10/24" followed once to { ip, prefix }.

import { Ipv4Address, parseAddress } from "../../lib/ipv4";
import { EnvironmentConfig, GuestNetworkConfig, LxcConfig } from "../schema";

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

/**
 * The environment's network as its guests' firewalls see it. A container that runs WireGuard
 * masquerades the VPN's traffic toward its own subnet (components/serviceLxc/security.ts), so there
 * its address stands for the VPN's clients and joins the trusted sources. It trusts nothing new: the
 * container may already send from the VPN's addresses (its ipfilter set holds them).
 */
export function trustedNetwork(
    network: EnvironmentConfig["network"],
    containers: Readonly<Record<string, Pick<LxcConfig, "wireguard" | "network">>>,
): EnvironmentConfig["network"] {
    const vpnServers = Object.values(containers)
        .filter((ct) => ct.wireguard !== undefined && ct.network.address !== "dhcp")
        .map((ct) => `${parseAddress(ct.network.address).ip}/32`)
        .filter((source) => !network.trustedSources.includes(source));
    return vpnServers.length === 0
        ? network
        : { ...network, trustedSources: [...network.trustedSources, ...vpnServers] };
}
