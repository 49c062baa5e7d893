// What the schema's findings say: the path in `pulumi config --path` form, and a message that names
// what was found and what fits: a missing key, a wrong type with the value found, an enum's allowed
// values and the nearest one, an unknown key with the field it most likely meant.

import { z } from "zod";
import { ConfigIssue } from "./rules/issues";
import { CONFIG_KEYS, StackConfigSchema } from "./schema";

/** Every field name the schema knows, for "did you mean" hints on typos. */
const KNOWN_FIELDS: readonly string[] = (() => {
    const names = new Set<string>(Object.keys(CONFIG_KEYS));
    const walk = (schema: z.core.$ZodType, depth: number): void => {
        if (depth > 12) return;
        const def = schema._zod.def as unknown as Record<string, unknown>;
        const shape = (schema as { shape?: Record<string, z.core.$ZodType> }).shape;
        if (shape) {
            for (const [key, child] of Object.entries(shape)) {
                names.add(key);
                walk(child, depth + 1);
            }
        }
        for (const inner of ["innerType", "element", "valueType", "in"]) {
            const child = def[inner] as z.core.$ZodType | undefined;
            if (child && typeof child === "object" && "_zod" in child) walk(child, depth + 1);
        }
        const options = def["options"] as z.core.$ZodType[] | undefined;
        if (Array.isArray(options)) options.forEach((o) => walk(o, depth + 1));
    };
    walk(StackConfigSchema, 0);
    return [...names];
})();

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

/** The known name closest to `key`, or undefined when none is close enough to be a typo. */
export function suggestField(key: string): string | undefined {
    let best: { name: string; d: number } | undefined;
    for (const name of KNOWN_FIELDS) {
        const d = distance(key.toLowerCase(), name.toLowerCase());
        if (d <= Math.max(2, Math.floor(name.length / 4)) && (!best || d < best.d)) best = { name, d };
    }
    return best?.name;
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
                    const hint = suggestField(key);
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
