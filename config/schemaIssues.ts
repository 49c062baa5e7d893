// What the schema's findings say: the path in `pulumi config --path` form, and a message that names
// what was found and what fits: a missing key, a wrong type with the value found, an enum's allowed
// values and the nearest one, an unknown key with the field it most likely meant.

import { z } from "zod";
import { ConfigIssue } from "./rules/issues";
import { CONFIG_KEYS, StackConfigSchema } from "./schema";

type Schema = z.core.$ZodType;
type Def = { type: string } & Record<string, unknown>;

/** The schemas a value at this point may take: through optional, default, pipe and union wrappers. */
function alternatives(schema: Schema, depth = 0): Schema[] {
    if (depth > 12) return [];
    const def = schema._zod.def as unknown as Def;
    const inner = (key: string) => alternatives(def[key] as Schema, depth + 1);
    switch (def.type) {
        case "optional":
        case "default":
        case "prefault":
        case "nullable":
        case "nonoptional":
        case "readonly":
        case "catch":
            return inner("innerType");
        case "pipe":
            return [...inner("in"), ...inner("out")];
        case "union":
            return (def["options"] as Schema[]).flatMap((o) => alternatives(o, depth + 1));
        default:
            return [schema];
    }
}

/** The schemas one path step below: an object's field, a record's value, a list's element. */
function step(schema: Schema, part: PropertyKey): Schema[] {
    return alternatives(schema).flatMap((s): Schema[] => {
        const def = s._zod.def as unknown as Def;
        if (def.type === "object" && typeof part === "string") {
            const field = (def["shape"] as Record<string, Schema>)[part];
            return field ? [field] : [];
        }
        if (def.type === "record" && typeof part === "string") return [def["valueType"] as Schema];
        if (def.type === "array" && typeof part === "number") return [def["element"] as Schema];
        return [];
    });
}

/**
 * The field names valid at a path (`nodes.pve1.cpu` → vendor, model, ...): a typo is matched against
 * these only, never against a field of some other object. The top level adds the secret keys.
 */
export function fieldsAt(path: readonly PropertyKey[]): string[] {
    let schemas: Schema[] = [StackConfigSchema];
    for (const part of path) schemas = schemas.flatMap((s) => step(s, part));
    const names = new Set<string>(path.length === 0 ? Object.keys(CONFIG_KEYS) : []);
    for (const s of schemas.flatMap((x) => alternatives(x))) {
        const def = s._zod.def as unknown as Def;
        if (def.type === "object") Object.keys(def["shape"] as object).forEach((k) => names.add(k));
    }
    return [...names];
}

/** Levenshtein distance. */
export function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0] as number;
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cur = row[j] as number;
            row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = cur;
        }
    }
    return row[b.length] as number;
}

/** The name among `names` closest to `key`, or undefined when none is close enough to be a typo. */
export function suggestAmong(key: string, names: readonly string[]): string | undefined {
    let best: { name: string; d: number } | undefined;
    for (const name of names) {
        const d = distance(key.toLowerCase(), name.toLowerCase());
        if (d <= Math.max(2, Math.floor(name.length / 4)) && (!best || d < best.d)) best = { name, d };
    }
    return best?.name;
}

/** The field valid at `path` closest to `key` (the top level when no path is given). */
export function suggestField(key: string, path: readonly PropertyKey[] = []): string | undefined {
    return suggestAmong(key, fieldsAt(path));
}

/** The allowed value nearest to what was written (ties go to the first listed). */
export function nearestValue(found: string, allowed: readonly string[]): string | undefined {
    let best: { value: string; d: number } | undefined;
    for (const value of allowed) {
        const d = distance(found.toLowerCase(), value.toLowerCase());
        if (!best || d < best.d) best = { value, d };
    }
    return best?.value;
}

/** `nodes.pve1.gpus[0]` — the path syntax `pulumi config set --path` takes. */
export function formatPath(path: readonly PropertyKey[]): string {
    return path.reduce<string>((acc, part) => {
        if (typeof part === "number") return `${acc}[${part}]`;
        return acc === "" ? String(part) : `${acc}.${String(part)}`;
    }, "");
}

/** A found value as a message shows it: what kind of value, and its JSON cut short. */
export function describeValue(value: unknown): string {
    const json = JSON.stringify(value) ?? String(value);
    const text = json.length > 40 ? `${json.slice(0, 37)}...` : json;
    if (value === null || typeof value === "boolean") return text;
    if (Array.isArray(value)) return `the list ${text}`;
    return `the ${typeof value} ${text}`;
}

const KINDS: Readonly<Record<string, string>> = { array: "a list", object: "an object", int: "a whole number" };
const kind = (expected: string) => KINDS[expected] ?? `a ${expected}`;

/** A value of the wrong type: what was expected, what was found, and the likely slip. */
function wrongType(expected: string, input: unknown): string {
    const found = `expected ${kind(expected)}, found ${describeValue(input)}`;
    if (typeof input !== "string") return found;
    if (expected === "boolean" && /^(true|false)$/i.test(input)) {
        return `${found}; write ${input.toLowerCase()} without quotes`;
    }
    if (expected === "number" && input.trim() !== "" && Number.isFinite(Number(input))) {
        return `${found}; write ${input.trim()} without quotes`;
    }
    return found;
}

/** A value outside an enum: the allowed values and the nearest one. */
function notAllowed(values: readonly unknown[], input: unknown): string {
    const allowed = values.map((v) => JSON.stringify(v)).join(", ");
    const nearest = typeof input === "string" ? nearestValue(input, values.map(String)) : undefined;
    const hint = nearest === undefined ? "" : `; the nearest is "${nearest}"`;
    const found = typeof input === "string" ? JSON.stringify(input) : describeValue(input);
    return `${found} is not one of ${allowed}${hint}`;
}

/** A value left out: the schema's own hint on where to find it when it has one, else the type. */
function missing(schemaMessage: string, expected: string): string {
    return schemaMessage.startsWith("Invalid input")
        ? `missing; add it (expected ${expected})`
        : `missing; add it: ${schemaMessage}`;
}

export function schemaIssues(error: z.ZodError): ConfigIssue[] {
    return error.issues.flatMap((issue): ConfigIssue[] => {
        const path = formatPath(issue.path);
        // With reportInput, a finding carries `input` exactly when a value was there.
        const present = "input" in issue && issue.input !== undefined;
        switch (issue.code) {
            case "unrecognized_keys":
                return issue.keys.map((key) => {
                    const hint = suggestField(key, issue.path);
                    return {
                        path: path === "" ? key : `${path}.${key}`,
                        message: hint
                            ? `unknown key; did you mean "${hint}"?`
                            : "unknown key; remove it (see docs/config-reference.md)",
                    };
                });
            case "invalid_type":
                return [
                    {
                        path,
                        message: present
                            ? wrongType(issue.expected, issue.input)
                            : missing(issue.message, kind(issue.expected)),
                    },
                ];
            case "invalid_value":
                return [
                    {
                        path,
                        message: present
                            ? notAllowed(issue.values, issue.input)
                            : `missing; add it (one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")})`,
                    },
                ];
            case "invalid_key":
                return [{ path, message: `the name ${issue.issues[0]?.message ?? "is invalid"}` }];
            default:
                return [{ path, message: issue.message }];
        }
    });
}
