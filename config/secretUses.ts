// The one walk that finds every secret a stack uses: the parsed config, read along the schema, by
// the fields the schema marks as secret (config/schema/fields.ts: secretRef, secretTemplate). The
// rules check each is set, the stack turns each into a secret Output, and the test placeholders and
// the secrets generator list them, all from here.

import { z } from "zod";
import { secretRefs } from "../lib/secretTemplate";
import { ParsedConfig, StackConfigSchema, secretFields } from "./schema";

/** One place the config names a secret: its config path, and the serviceSecrets key. */
export interface SecretUse {
    readonly path: string;
    readonly name: string;
}

type Schema = z.core.$ZodType;

/** The parts of a schema that hold values; wrappers (optional, default, ...) lead to their inner type. */
function children(schema: Schema, value: unknown, at: string): [Schema, unknown, string][] {
    const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
    const join = (key: string) => (at === "" ? key : `${at}.${key}`);
    const isObject = value !== null && typeof value === "object" && !Array.isArray(value);
    switch (def.type) {
        case "optional":
        case "nullable":
        case "default":
        case "prefault":
        case "readonly":
        case "nonoptional":
        case "catch":
            return [[def["innerType"] as Schema, value, at]];
        case "pipe":
            return [[def["out"] as Schema, value, at]];
        case "object": {
            if (!isObject) return [];
            const shape = def["shape"] as Record<string, Schema>;
            const record = value as Record<string, unknown>;
            return Object.entries(shape).map(([key, s]): [Schema, unknown, string] => [s, record[key], join(key)]);
        }
        case "record":
            if (!isObject) return [];
            return Object.entries(value as Record<string, unknown>).map(([key, v]) => [
                def["valueType"] as Schema,
                v,
                join(key),
            ]);
        case "array":
            return Array.isArray(value)
                ? value.map((v, i): [Schema, unknown, string] => [def["element"] as Schema, v, `${at}[${i}]`])
                : [];
        case "union":
            // Secrets sit in no union today; should one, each option that fits the value is walked.
            return (def["options"] as Schema[])
                .filter((o) => z.safeParse(o, value).success)
                .map((o): [Schema, unknown, string] => [o, value, at]);
        default:
            return [];
    }
}

function walk(schema: Schema, value: unknown, at: string, out: SecretUse[]): void {
    if (value === undefined) return;
    const field = secretFields.get(schema);
    if (field && typeof value === "string") {
        const names = field.kind === "name" ? [value] : secretRefs(value);
        for (const name of names) out.push({ path: at, name });
        return;
    }
    for (const [s, v, p] of children(schema, value, at)) walk(s, v, p, out);
}

/**
 * Every place the stack's config names a secret, in config order. Monitoring's secrets count only
 * in the stack whose containers hold the monitoring container: the other stack runs no server.
 */
export function secretUses(cfg: ParsedConfig): SecretUse[] {
    const mon = cfg.monitoring;
    const scoped = mon && !cfg.containers[mon.container] ? { ...cfg, monitoring: undefined } : cfg;
    const out: SecretUse[] = [];
    walk(StackConfigSchema, scoped, "", out);
    return out;
}

/** The distinct serviceSecrets keys the stack uses, sorted. */
export function secretNames(cfg: ParsedConfig): string[] {
    return [...new Set(secretUses(cfg).map((u) => u.name))].sort();
}
