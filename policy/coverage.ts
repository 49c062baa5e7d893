// What the mandatory rules could not check, as one advisory: a rule that meets a resource it cannot judge (a
// firewall naming a guest the stack lacks, a guest without an environment tag) says so here, never passes it silently.

import type { PolicyResource } from "@pulumi/policy";
import type { CoveredStackPolicy } from "./util";
import { stackPolicy } from "./util";

/** What a resource rule cannot judge in one resource, and why (undefined: it can). */
export interface ResourceCoverage {
    readonly name: string;
    readonly unchecked: (resource: PolicyResource) => string | undefined;
}

/**
 * The advisory that reports, for each of `rules` (stack rules) and `resourceRules`, what it could not check, as
 * "<rule> could not check <why>".
 */
export function couldNotCheckPolicy(
    rules: readonly CoveredStackPolicy[],
    resourceRules: readonly ResourceCoverage[] = [],
) {
    return stackPolicy(
        "policy-could-not-check",
        "Every resource a mandatory rule is meant to judge can be judged; what one could not check is reported here.",
        "Give the resource what the rule reads (the message names it), or check it by hand and say why in the pull request.",
        (args, reportViolation) => {
            for (const rule of rules) {
                rule.covered(
                    args.resources,
                    () => undefined,
                    (message, urn) => reportViolation(`${rule.name} could not check ${message}`, urn),
                );
            }
            for (const rule of resourceRules) {
                for (const r of args.resources) {
                    const why = rule.unchecked(r);
                    if (why !== undefined) reportViolation(`${rule.name} could not check ${why}`, r.urn);
                }
            }
        },
        "advisory",
    );
}
