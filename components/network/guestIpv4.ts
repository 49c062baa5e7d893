// The IPv4 block the GPU VMs (cloud-init) and the service containers (LXC) take alike.

import { GuestNetworkModel } from "../../config/resolve";
import { formatAddress } from "../../lib/ipv4";

/** DHCP, or the static address with the environment's gateway. */
export function guestIpv4(network: GuestNetworkModel, gateway: string): { address: string; gateway?: string } {
    return network.address === undefined ? { address: "dhcp" } : { address: formatAddress(network.address), gateway };
}
