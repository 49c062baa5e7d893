// The public environment: Mistral 7B on the small GPU, ChromaDB, the agentic chatbot and the
// multi-tenant POC apps. Inbound is denied by default; only the reverse proxy publishes, on 80/443
// to anyone and on its trusted entrypoint to the trusted networks and the monitoring host, and only
// trusted networks may administer the guests. Outbound is denied too, except DNS, the
// environment's own subnet, and web and time servers on the internet: a compromised DMZ guest
// reaches neither the LAN nor the private environment, nor the router's own services.

import { ALL_IPV4_HALVES, NON_PUBLIC_IPV4 } from "../lib/ipv4";
import { EnvironmentPolicy, FirewallIpset, FirewallRule } from "../config/policy";
import { TRUSTED_ENTRYPOINT_PORT } from "../config/schema";

/** The internet: every IPv4 address but the private and special-purpose ones. */
export const PUBLIC_INTERNET_IPSET: FirewallIpset = {
    name: "aids-pub-inet",
    comment: "ai-dualstack public: the internet (every IPv4 address but private and special-purpose ones)",
    cidrs: [
        ...ALL_IPV4_HALVES.map((name) => ({ name })),
        ...NON_PUBLIC_IPV4.map((name) => ({ name, nomatch: true, comment: "not the internet" })),
    ],
};

const INTERNET = `+${PUBLIC_INTERNET_IPSET.name}`;

export const PUBLIC_POLICY: EnvironmentPolicy = {
    environment: "public",
    exposure:
        "internet-facing: inbound denied by default, open only on the ports a guest publishes; outbound only DNS, the DMZ subnet and the internet's web and time servers",
    // The trusted networks administer the guests (SSH, ping); the internet reaches what is published.
    trustedSources: "administer",
    // HTTP (the redirect to HTTPS) and HTTPS, through the proxy alone, and the proxy's trusted
    // entrypoint for its plain routes (Ollama, the exporters), which the router does not forward.
    publishablePorts: [80, 443, TRUSTED_ENTRYPOINT_PORT],
    // The proxy's 80 and 443 answer the internet; its trusted entrypoint names its own sources
    // (config/rules/workload.ts refuses it without them), and its routes check the source again.
    publishedFrom: () => ["any"],
    outputPolicy: "DROP",
    ipfilter: true,
    ipsets: [PUBLIC_INTERNET_IPSET],
    // A compromised internet-facing service must not take over the VM's Docker.
    dockerSocket: "refused",
    // The VM stays the default: an escape from an internet-facing container lands on the host.
    gpuContainerWarning:
        "the internet-facing GPU guest is a container, which shares the Proxmox host's kernel: an escape from it (a kernel or NVIDIA driver bug reachable from inside) lands on the host, next to the private environment; a VM (kind: vm, the default) keeps it inside the VM (docs/security.md)",
    baselineRules(network) {
        const dns = network.dns.length > 0 ? network.dns.join(",") : network.gateway;
        // In: administration only; each guest opens what it publishes or serves, to whom (config/resolve/firewall.ts).
        return [
            ...network.trustedSources.flatMap((source): FirewallRule[] => [
                { type: "in", action: "ACCEPT", proto: "tcp", dport: "22", source, comment: `SSH from ${source}` },
                { type: "in", action: "ACCEPT", macro: "Ping", source, comment: `ping from ${source}` },
            ]),
            // Out, in order: the first match wins.
            { type: "out", action: "ACCEPT", proto: "udp", dport: "53", dest: dns, comment: "DNS" },
            { type: "out", action: "ACCEPT", proto: "tcp", dport: "53", dest: dns, comment: "DNS over TCP" },
            {
                type: "out",
                action: "DROP",
                dest: network.gateway,
                comment: "nothing else to the router itself (its admin pages, its other services)",
            },
            {
                type: "out",
                action: "ACCEPT",
                dest: network.cidr,
                comment: "the DMZ subnet: the AI VM to its PostgreSQL and Redis",
            },
            {
                type: "out",
                action: "ACCEPT",
                proto: "tcp",
                dport: "80,443",
                dest: INTERNET,
                comment: "web on the internet: packages, images, models, Let's Encrypt",
            },
            { type: "out", action: "ACCEPT", proto: "udp", dport: "123", dest: INTERNET, comment: "time (NTP)" },
        ];
    },
};
