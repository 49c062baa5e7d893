// Helpers the policy areas share: how a policy is stated, which environment a resource belongs to,
// port lists, and the values a preview leaves unknown (undefined), which every policy skips rather than fails.

import type { EnforcementLevel, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

/**
 * How a policy is stated: a kebab-case name, one sentence, how to fix a violation, its check, and
 * mandatory unless said otherwise (advisory: reported, never blocking).
 */
type Stated<Check> = [
    name: string,
    description: string,
    remediationSteps: string,
    check: Check,
    enforcementLevel?: EnforcementLevel,
];

function stated<Check>(...[name, description, remediationSteps, check, enforcementLevel]: Stated<Check>) {
    return { name, description, enforcementLevel: enforcementLevel ?? "mandatory", remediationSteps, check };
}

/** A policy that checks each resource on its own. */
export function resourcePolicy(
    ...args: Stated<ResourceValidationPolicy["validateResource"]>
): ResourceValidationPolicy {
    const { check, ...text } = stated(...args);
    return { ...text, validateResource: check };
}

/** A policy that checks the stack's resources together. */
export function stackPolicy(...args: Stated<StackValidationPolicy["validateStack"]>): StackValidationPolicy {
    const { check, ...text } = stated(...args);
    return { ...text, validateStack: check };
}

/** The two environments of this project; a guest's tags and a bridge's comment name one. */
export const ENVIRONMENTS = ["private", "public"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The environment a guest's tags name (tags read ["ai-dualstack", <env>, ...], sorted). */
export function environmentOfTags(tags: readonly string[] | undefined): Environment | undefined {
    return ENVIRONMENTS.find((env) => tags?.includes(env));
}

/** The environment a comment names: "ai-dualstack public", "private: LAN/VPN only". */
export function environmentOfComment(comment: string | undefined): Environment | undefined {
    const m = /^(?:ai-dualstack )?(private|public)\b/.exec(comment ?? "");
    return m ? (m[1] as Environment) : undefined;
}

/** Whether a Proxmox port list ("22", "80,443", "20:25") includes one of `ports`. */
export function portListIncludes(dport: string | undefined, ports: readonly number[]): boolean {
    if (dport === undefined) return true; // no port: the rule matches every port
    return dport.split(",").some((part) => {
        const [lo, hi] = part.split(":").map((p) => Number(p.trim()));
        if (lo === undefined || Number.isNaN(lo)) return false;
        const top = hi === undefined || Number.isNaN(hi) ? lo : hi;
        return ports.some((p) => p >= lo && p <= top);
    });
}

/** Whether a firewall source lets in (nearly) everyone: absent, 0.0.0.0/0, or a prefix under /8. */
export function isWideSource(source: string | undefined): boolean {
    if (source === undefined || source === "") return true;
    return source.split(",").some((s) => {
        const m = /^[\d.]+\/(\d+)$/.exec(s.trim());
        return m !== null && Number(m[1]) < 8;
    });
}

/** The address of a CIDR ("10.10.10.10/24" → "10.10.10.10"). */
export function hostOf(cidr: string | undefined): string | undefined {
    return cidr?.split("/")[0];
}

/**
 * `value` with every null read as absent (undefined), lazily, so that values unknown in a preview still throw only
 * when read. A stack policy under the engine sees each resource's planned outputs, where the provider fills each
 * field the program left out with null (a container's firewall options carry `vmId: null`); offline, and in a
 * resource policy (the inputs), a field left out is absent. Every stack policy reads resources through this.
 */
export function absentNulls<T>(value: T): T {
    if (value === null || typeof value !== "object") return value;
    return new Proxy(value, {
        get(target, key, receiver) {
            const v: unknown = Reflect.get(target, key, receiver);
            return v === null ? undefined : absentNulls(v);
        },
    });
}

/** Reports that a rule could not check a resource (and why): policy-could-not-check says so, as an advisory. */
export type CouldNotCheck = (message: string, urn?: string) => void;

/** A stack rule's check, which also says what it could not check. */
export type CoveredCheck = (
    resources: PolicyResource[],
    reportViolation: (message: string, urn?: string) => void,
    couldNotCheck: CouldNotCheck,
) => void;

/** A mandatory stack policy, with the check that also says what it could not check. */
export type CoveredStackPolicy = StackValidationPolicy & { readonly covered: CoveredCheck };

/**
 * A mandatory stack policy whose check says what it could not check: the policy reports the violations, and
 * policy-could-not-check (an advisory, policy/coverage.ts) what it could not check, so that nothing passes silently.
 */
export function coveredStackPolicy(
    name: string,
    description: string,
    remediationSteps: string,
    check: CoveredCheck,
): CoveredStackPolicy {
    const policy = stackPolicy(name, description, remediationSteps, (args, reportViolation) =>
        check(args.resources, reportViolation, () => undefined),
    );
    return { ...policy, covered: check };
}

/** Whether `policy` is a stack policy that says what it could not check. */
export function isCovered(policy: object): policy is CoveredStackPolicy {
    return "covered" in policy && typeof policy.covered === "function";
}
