// The public environment: Mistral 7B on the small GPU, ChromaDB, the agentic chatbot and the
// multi-tenant POC apps. Inbound is denied by default; only the reverse proxy publishes, on 80/443,
// and only trusted networks may administer the guests.

import { EnvironmentPolicy, FirewallRule } from "../config/policy";

export const PUBLIC_POLICY: EnvironmentPolicy = {
    environment: "public",
    exposure: "internet-facing: inbound denied by default, open only on the ports a guest lists",
    // The trusted networks administer the guests (SSH, ping); the internet reaches what is published.
    trustedSources: "administer",
    // HTTP (the redirect and the trusted-only routes) and HTTPS, through the proxy alone.
    publishablePorts: [80, 443],
    baselineRules(network) {
        return [
            { type: "in", action: "ACCEPT", source: network.cidr, comment: "public guests reach each other" },
            ...network.trustedSources.flatMap((source): FirewallRule[] => [
                { type: "in", action: "ACCEPT", proto: "tcp", dport: "22", source, comment: `SSH from ${source}` },
                { type: "in", action: "ACCEPT", macro: "Ping", source, comment: `ping from ${source}` },
            ]),
        ];
    },
};
