// What makes an environment private or public, as data: the stacks (stacks/private.ts and
// stacks/public.ts) fill it in, the isolation rules and the network component read it. Config
// declares only the shape, so that nothing below the stacks branches on an environment's name.

import { EnvironmentConfig, EnvironmentName } from "./schema";

/** One rule of an environment's baseline security group (Proxmox's field names). */
export interface FirewallRule {
    type: "in" | "out";
    action: "ACCEPT" | "DROP" | "REJECT";
    proto?: string;
    dport?: string;
    source?: string;
    macro?: string;
    comment: string;
}

export interface EnvironmentPolicy {
    readonly environment: EnvironmentName;
    /** One line for the outputs and the plan header. */
    readonly exposure: string;
    /**
     * What trustedSources means. "reach-all": the trusted networks reach every guest and nothing
     * else does, so each must be narrow and apart from the other environment, and every inbound
     * rule's source lies inside them. "administer": they may administer the guests (SSH, ping);
     * guests publish what they list.
     */
    readonly trustedSources: "reach-all" | "administer";
    /**
     * Undefined: services may publish any port (bound to the VM's own address). A list: only the
     * VM's reverse proxy publishes, and only these ports.
     */
    readonly publishablePorts?: readonly number[];
    /** The baseline rules every guest of the environment joins, on top of inbound DROP. */
    baselineRules(network: EnvironmentConfig["network"]): FirewallRule[];
}

export type EnvironmentPolicies = Readonly<Record<EnvironmentName, EnvironmentPolicy>>;
