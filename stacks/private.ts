// The private environment: the "second brain". Qwen 2.5 on the big GPU, Qdrant and the personal
// services, reachable only from the LAN and VPN networks in environments.private.network.trustedSources.

import { EnvironmentPolicy, FirewallRule } from "../config/policy";
import { RUNNER_INTERNET_IPSET } from "../config/resolve/roleFirewall";

export const PRIVATE_POLICY: EnvironmentPolicy = {
    environment: "private",
    exposure:
        "LAN/VPN only: inbound is denied except SSH and ping from environments.private.network.trustedSources and what each guest publishes, to them or to the guests that use it",
    // Nothing from outside but the trusted networks gets in, so they must be narrow; every guest
    // rule's source lies inside them or the environment's own network.
    trustedSources: "only-way-in",
    // Services publish on the VM's own address, which only the trusted networks reach.
    publishablePorts: undefined,
    // Private guests fetch what they need from the LAN and the internet.
    outputPolicy: "ACCEPT",
    ipfilter: true,
    // The CI/CD runner's outbound rules name it (config/resolve/roleFirewall.ts).
    ipsets: [RUNNER_INTERNET_IPSET],
    // Monitoring may read Docker's own view of the containers.
    dockerSocket: "allowed",
    // Published ports answer the trusted networks unless a port names its own sources.
    publishedFrom: (network) => network.trustedSources,
    // Only administration: every other port is opened per guest, by port and source.
    baselineRules(network) {
        return network.trustedSources.flatMap((source): FirewallRule[] => [
            { type: "in", action: "ACCEPT", proto: "tcp", dport: "22", source, comment: `SSH from ${source}` },
            { type: "in", action: "ACCEPT", macro: "Ping", source, comment: `ping from ${source}` },
        ]);
    },
};
