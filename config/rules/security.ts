// Rules for the security and CI/CD containers' set-ups: each on its own role, with a static address
// the setup connects to, the secrets it names set, a VPN network the environment trusts, peers that
// fit in it, and the addresses their firewall rules name written as IPv4 addresses.

import { containsIp, containsNetwork, networkCidr, parseCidr } from "../../lib/ipv4";
import { EnvironmentName, LxcConfig, ParsedConfig } from "../schema";
import { Add } from "./issues";

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Which role runs which set-up. */
const SETUP_ROLES = { wireguard: "security", crowdsec: "security", runner: "cicd" } as const;

function checkWireguard(
    at: string,
    wg: NonNullable<LxcConfig["wireguard"]>,
    trusted: readonly string[],
    env: EnvironmentName,
    add: Add,
): void {
    const vpn = networkCidr(wg.address);
    if (!trusted.some((t) => containsNetwork(parseCidr(t), parseCidr(vpn)))) {
        add(
            `${at}.wireguard.address`,
            `the VPN network ${vpn} is not inside environments.${env}.network.trustedSources (${trusted.join(", ")}); the ${env} guests would drop its clients: add ${vpn} there or pick an address inside a trusted network`,
        );
    }
    const server = wg.address.split("/")[0] as string;
    const seen = new Map<string, string>();
    const keys = new Map<string, string>();
    for (const [name, peer] of Object.entries(wg.peers)) {
        const p = `${at}.wireguard.peers.${name}`;
        if (!containsIp(parseCidr(vpn), peer.address)) {
            add(
                `${p}.address`,
                `${peer.address} is outside the VPN network ${vpn}; give the peer an address inside it`,
            );
        } else if (peer.address === server) {
            add(`${p}.address`, `${peer.address} is the server's own address (wireguard.address); pick another`);
        } else if (seen.has(peer.address)) {
            add(
                `${p}.address`,
                `${peer.address} is already peer "${seen.get(peer.address)}"'s; each peer needs its own address`,
            );
        }
        seen.set(peer.address, name);
        if (keys.has(peer.publicKey)) {
            add(
                `${p}.publicKey`,
                `the same key as peer "${keys.get(peer.publicKey)}"; each device needs its own key pair (wg genkey)`,
            );
        }
        keys.set(peer.publicKey, name);
    }
}

export function checkRoleSetups(cfg: ParsedConfig, env: EnvironmentName, add: Add): void {
    for (const [name, lxc] of Object.entries(cfg.containers)) {
        const at = `containers.${name}`;
        const setups = (Object.entries(SETUP_ROLES) as [keyof typeof SETUP_ROLES, string][]).filter(
            ([key]) => lxc[key] !== undefined,
        );
        for (const [key, role] of setups) {
            if (lxc.role !== role)
                add(`${at}.${key}`, `only a container with role ${role} runs ${key} (this one is ${lxc.role})`);
        }
        if (setups.length > 0 && lxc.network.address === "dhcp") {
            add(
                `${at}.network.address`,
                `a container with a ${setups.map(([k]) => k).join(" and ")} setup needs a static address: the setup connects to it and its firewall rules name it`,
            );
        }
        if (lxc.wireguard) checkWireguard(at, lxc.wireguard, cfg.environments[env].network.trustedSources, env, add);
        const node = cfg.nodes[lxc.node];
        if (lxc.crowdsec && node && !IPV4.test(node.address)) {
            add(
                `nodes.${lxc.node}.address`,
                `"${node.address}" is a name; the CrowdSec container's firewall admits its node by address: write the node's IPv4 address`,
            );
        }
        if (lxc.runner && !IPV4.test(new URL(cfg.proxmox.endpoint).hostname)) {
            add(
                "proxmox.endpoint",
                `the runner's firewall opens the Proxmox API by address; write the endpoint with the node's IPv4 address, such as "https://192.168.1.10:8006/"`,
            );
        }
    }
}
