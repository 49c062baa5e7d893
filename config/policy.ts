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
    /** A CIDR, a comma list, or "+<ipset>" (a cluster IP set of the policy's `ipsets`). */
    dest?: string;
    macro?: string;
    comment: string;
}

/** A cluster-wide IP set a baseline rule names as "+<name>"; `nomatch` entries are left out of it. */
export interface FirewallIpset {
    readonly name: string;
    readonly comment: string;
    readonly cidrs: readonly { readonly name: string; readonly nomatch?: boolean; readonly comment?: string }[];
}

export interface EnvironmentPolicy {
    readonly environment: EnvironmentName;
    /** One line for the outputs and the plan header. */
    readonly exposure: string;
    /**
     * What trustedSources means. "only-way-in": nothing from outside the environment but the
     * trusted networks reaches its guests, so each must be narrow and apart from the other
     * environment, and every inbound rule's source lies inside them or the environment's own
     * network. "administer": they may administer the guests (SSH, ping) and use the proxy's
     * trusted-only routes; guests publish what they list.
     */
    readonly trustedSources: "only-way-in" | "administer";
    /**
     * Undefined: services may publish any port (bound to the VM's own address). A list: only the
     * VM's reverse proxy publishes, and only these ports.
     */
    readonly publishablePorts?: readonly number[];
    /** What a guest may send unless a rule lets it: ACCEPT, or DROP with the baseline's "out" rules. */
    readonly outputPolicy: "ACCEPT" | "DROP";
    /** Anti-spoofing: a guest sends only from its own address (Proxmox's ipfilter). */
    readonly ipfilter: boolean;
    /** Whether a service may mount the VM's Docker socket (root over every container of the VM). */
    readonly dockerSocket: "allowed" | "refused";
    /**
     * Said in every plan and preview of a GPU guest of kind "container" (it shares the host's kernel);
     * undefined: the environment may use either kind without a word.
     */
    readonly gpuContainerWarning?: string;
    /** The cluster IP sets the baseline's rules name. */
    readonly ipsets: readonly FirewallIpset[];
    /**
     * Who may connect to a published port (a VM's service port, a service container's UI) unless
     * the port names its own sources: CIDRs, or "any".
     */
    publishedFrom(network: EnvironmentConfig["network"]): readonly string[];
    /** The baseline rules every guest of the environment joins, on top of inbound DROP. */
    baselineRules(network: EnvironmentConfig["network"]): FirewallRule[];
}

export type EnvironmentPolicies = Readonly<Record<EnvironmentName, EnvironmentPolicy>>;

/** The guest firewall options an environment's policy sets on every guest. */
export type GuestFirewallPolicy = Pick<EnvironmentPolicy, "outputPolicy" | "ipfilter">;
