// The resolve step for secrets: every serviceSecrets name the config uses (the one walk,
// config/secretUses.ts) becomes one secret Output, built once from the checked values. The stack
// hands each component the Outputs it needs, so no component looks a secret up by name; a name that
// is not set was refused by the config rules (config/rules/secrets.ts) before anything got here.

import * as pulumi from "@pulumi/pulumi";
import { fillTemplate, secretRefs } from "../../lib/secretTemplate";
import { ParsedConfig } from "../schema";
import { secretNames } from "../secretUses";

/** The stack's serviceSecrets as secret Outputs, for the names its config uses. */
export interface SecretOutputs {
    /** Each name the walk found, with its value held secret. */
    readonly byName: ReadonlyMap<string, pulumi.Output<string>>;
    /** A secret field's value (a secretRef field of the schema). */
    value(name: string): pulumi.Output<string>;
    /** A secret template (a secretTemplate field of the schema) filled with the values it names. */
    fill(template: string): pulumi.Output<string>;
}

/**
 * `values`: serviceSecrets as the parse checked them (names to non-empty strings). A name the stack
 * asks for that the walk did not find is a defect of this program, not of the config: its schema
 * field is not marked with secretRef or secretTemplate (config/schema/fields.ts).
 */
export function resolveSecrets(cfg: ParsedConfig, values: Readonly<Record<string, unknown>>): SecretOutputs {
    const byName = new Map<string, pulumi.Output<string>>();
    for (const name of secretNames(cfg)) {
        const v = values[name];
        if (typeof v === "string") byName.set(name, pulumi.secret(v));
    }
    const value = (name: string): pulumi.Output<string> => {
        const out = byName.get(name);
        if (out === undefined) {
            throw new Error(
                `internal: serviceSecrets.${name} is not among the secrets the config walk found; mark its schema field with secretRef or secretTemplate`,
            );
        }
        return out;
    };
    const fill = (template: string): pulumi.Output<string> => {
        const names = [...new Set(secretRefs(template))];
        return pulumi
            .all(names.map(value))
            .apply((vs) => fillTemplate(template, Object.fromEntries(names.map((n, i) => [n, vs[i] as string]))));
    };
    return { byName, value, fill };
}
