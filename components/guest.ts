// What the GPU VMs and the service containers set up alike.

import { GuestNetworkConfig } from "../config/schema";

/** The cloud-init / LXC ipv4 block: DHCP, or the static address with the environment's gateway. */
export function guestIpv4(network: GuestNetworkConfig, gateway: string): { address: string; gateway?: string } {
    return network.address === "dhcp" ? { address: "dhcp" } : { address: network.address, gateway };
}
