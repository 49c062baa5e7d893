// The private environment: the "second brain". Qwen 2.5 on the big GPU, Qdrant and the personal
// services, reachable only from the LAN and VPN networks in environments.private.network.trustedSources.

import { EnvironmentPolicy, FirewallRule } from "../config/policy";

export const PRIVATE_POLICY: EnvironmentPolicy = {
    environment: "private",
    exposure: "LAN/VPN only: inbound is denied except from environments.private.network.trustedSources",
    // The trusted networks reach everything, so they must be narrow; every guest rule stays inside them.
    trustedSources: "only-way-in",
    // Services publish on the VM's own address, which only the trusted networks reach.
    publishablePorts: undefined,
    // Private guests fetch what they need from the LAN and the internet.
    outputPolicy: "ACCEPT",
    ipfilter: true,
    ipsets: [],
    baselineRules(network) {
        return [
            { type: "in", action: "ACCEPT", source: network.cidr, comment: "private guests reach each other" },
            ...network.trustedSources.map((source): FirewallRule => ({
                type: "in",
                action: "ACCEPT",
                source,
                comment: `LAN/VPN ${source}`,
            })),
        ];
    },
};
