// What the mandatory rules could not check, as one advisory: a rule that meets a resource it cannot judge (a
// firewall naming a guest the stack lacks, a guest without an environment tag) says so here, never passes it silently.

import type { CoveredStackPolicy } from "./util";
import { stackPolicy } from "./util";

/** The advisory that reports, for each of `rules`, what it could not check, as "<rule>: <why>". */
export function couldNotCheckPolicy(rules: readonly CoveredStackPolicy[]) {
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
        },
        "advisory",
    );
}
