// What the security and CI/CD containers' set-ups add to their own firewalls: WireGuard's port and
// CrowdSec's two node-facing ports in; for the runner, outbound DROP except DNS, the Proxmox API, the
// nodes' SSH (the preview's host check) and the internet's web servers, so a job reaches nothing else
// of the environment, the LAN or the VPN.

import { ALL_IPV4_HALVES, NON_PUBLIC_IPV4 } from "../../lib/ipv4";
import { FirewallIpset, FirewallRule } from "../policy";
import { EnvironmentConfig, InboundRule, LxcConfig, ProxmoxConfig } from "../schema";

/** CrowdSec's local API, which the node's firewall bouncer polls. */
export const CROWDSEC_LAPI_PORT = 8080;
/** Where the node ships the proxy's access log to CrowdSec (syslog over UDP). */
export const CROWDSEC_SYSLOG_PORT = 5140;

/** The internet for the runner's outbound rules: every IPv4 address but private and special-purpose ones. */
export const RUNNER_INTERNET_IPSET: FirewallIpset = {
    name: "aids-priv-inet",
    comment:
        "ai-dualstack private: the internet, for the CI/CD runner (every IPv4 address but private and special-purpose ones)",
    cidrs: [
        ...ALL_IPV4_HALVES.map((name) => ({ name })),
        ...NON_PUBLIC_IPV4.map((name) => ({ name, nomatch: true, comment: "not the internet" })),
    ],
};

/** The host of the Proxmox API URL: what the runner may reach on 8006. */
export function apiHost(proxmox: Pick<ProxmoxConfig, "endpoint">): string {
    return new URL(proxmox.endpoint).hostname;
}

/** Inbound rules a container's role set-up needs: WireGuard from its listenFrom; CrowdSec from the node. */
export function roleInbound(lxc: LxcConfig, nodeAddress: string | undefined): InboundRule[] {
    const rules: InboundRule[] = [];
    const wg = lxc.wireguard;
    for (const source of wg?.listenFrom ?? []) {
        rules.push({ port: String(wg?.listenPort), proto: "udp", source, comment: `WireGuard from ${source}` });
    }
    if (lxc.crowdsec && nodeAddress !== undefined) {
        const node = `${nodeAddress}/32`;
        rules.push(
            {
                port: String(CROWDSEC_LAPI_PORT),
                proto: "tcp",
                source: node,
                comment: `CrowdSec API from the node's bouncer ${node}`,
            },
            {
                port: String(CROWDSEC_SYSLOG_PORT),
                proto: "udp",
                source: node,
                comment: `proxy access log shipped by the node ${node}`,
            },
        );
    }
    return rules;
}

/** The outbound side of a container's firewall: undefined keeps the environment's policy. */
export interface RoleOutbound {
    readonly outputPolicy: "ACCEPT" | "DROP";
    /** In order; the first match wins, then outputPolicy. */
    readonly rules: readonly FirewallRule[];
}

/**
 * The runner's outbound rules: DNS to the environment's resolvers, the Proxmox API, the nodes' SSH
 * (the preview's host check), and web servers
 * on the internet (GitHub, registries, Pulumi plugins); everything else, the environment's guests,
 * the LAN and the VPN included, is dropped.
 */
export function roleOutbound(
    lxc: LxcConfig,
    network: EnvironmentConfig["network"],
    proxmox: Pick<ProxmoxConfig, "endpoint">,
    nodesSsh: readonly { address: string; port: number }[] = [],
): RoleOutbound | undefined {
    if (!lxc.runner) return undefined;
    const dns = network.dns.length > 0 ? network.dns.join(",") : network.gateway;
    const api = new URL(proxmox.endpoint);
    const inet = `+${RUNNER_INTERNET_IPSET.name}`;
    return {
        outputPolicy: "DROP",
        rules: [
            { type: "out", action: "ACCEPT", proto: "udp", dport: "53", dest: dns, comment: "DNS" },
            { type: "out", action: "ACCEPT", proto: "tcp", dport: "53", dest: dns, comment: "DNS over TCP" },
            {
                type: "out",
                action: "ACCEPT",
                proto: "tcp",
                dport: api.port || "443",
                dest: api.hostname,
                comment: "the Proxmox API: the pull-request workflow's pulumi preview",
            },
            // The preview's program runs the read-only host check on each node over SSH (stacks/index.ts).
            ...nodesSsh.map((n): FirewallRule => ({
                type: "out",
                action: "ACCEPT",
                proto: "tcp",
                dport: String(n.port),
                dest: n.address,
                comment: "the node's SSH: the preview's read-only host check",
            })),
            {
                type: "out",
                action: "ACCEPT",
                proto: "tcp",
                dport: "80,443",
                dest: inet,
                comment: "web on the internet: GitHub, images, packages, Pulumi plugins",
            },
        ],
    };
}
