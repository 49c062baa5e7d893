// What the engine lets through in the project's own files, read from disk: a stack file's unknown
// top-level key (a misspelt `config:` hides every setting of the stack, so its guests would silently
// go), and a secret written in plain text into Pulumi.yaml, which is committed with the code.

import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ConfigIssue } from "./rules/issues";
import { NAMESPACE } from "./schema";
import { suggestAmong } from "./schemaIssues";
import { SECRET_FORMATS, SECRET_KEYS, SERVICE_SECRET_EXAMPLE, SecretKey } from "./secrets";

/**
 * A stack settings file's top-level keys, as Pulumi documents them ("Stack settings file
 * reference", pulumi.com/docs/iac/concepts/projects/stack-settings-file): anything else is ignored
 * by the engine without a word.
 */
export const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"] as const;

/** A YAML file's top-level mapping, or undefined when it is absent or not a mapping (the engine reports those). */
function readTopLevel(file: string): Record<string, unknown> | undefined {
    if (!fs.existsSync(file)) return undefined;
    try {
        const doc: unknown = parse(fs.readFileSync(file, "utf8"));
        return doc !== null && typeof doc === "object" && !Array.isArray(doc)
            ? (doc as Record<string, unknown>)
            : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Pulumi.<stack>.yaml's unknown top-level keys, each named. A stack whose settings live in the
 * service (no file here) has nothing to check.
 */
export function checkStackFileKeys(stack: string, projectDir: string): ConfigIssue[] {
    const file = `Pulumi.${stack}.yaml`;
    const top = readTopLevel(path.join(projectDir, file));
    if (!top) return [];
    const known = STACK_FILE_KEYS as readonly string[];
    return Object.keys(top)
        .filter((key) => !known.includes(key))
        .map((key) => {
            const hint = suggestAmong(key, known);
            const fix = hint ? `did you mean "${hint}"?` : "move what it holds under config:, or remove it";
            return {
                path: file,
                message: `unknown top-level key "${key}"; Pulumi ignores it and every setting under it without a word; ${fix} (a stack file holds ${known.join(", ")})`,
            };
        });
}

/** How a secret is stored for one stack: the command that asks for its value. */
function setCommand(key: SecretKey): string {
    return key === "serviceSecrets" ? SERVICE_SECRET_EXAMPLE : SECRET_FORMATS[key].example;
}

/**
 * Where a Pulumi.yaml entry holds a value: its `value` and `default`, or ("") the entry itself when
 * it is no declaration: a namespaced key's plain value, or a bare key's scalar shorthand.
 */
function valueFields(decl: unknown, bare: boolean): string[] {
    const isObject = decl !== null && typeof decl === "object" && !Array.isArray(decl);
    if (!isObject) return decl === "" || decl === null ? [] : [""];
    const fields = ["value", "default"].filter((f) => {
        const v = (decl as Record<string, unknown>)[f];
        return v !== undefined && v !== "";
    });
    const declared = ["type", "secret", "description", "value", "default"].some((f) => f in decl);
    return fields.length > 0 || bare || declared ? fields : [""];
}

/**
 * Secrets given a value in Pulumi.yaml (a `value` or `default` of their declaration, or a plain
 * value in place of it): that file is committed, so the fix is to remove the value from it and store
 * it encrypted in the stack, never to encrypt it in place, which leaves the plain text there.
 */
export function checkProjectFileSecrets(projectDir: string): ConfigIssue[] {
    const config = readTopLevel(path.join(projectDir, "Pulumi.yaml"))?.["config"];
    if (config === null || typeof config !== "object") return [];
    const issues: ConfigIssue[] = [];
    for (const key of SECRET_KEYS) {
        for (const name of [key, `${NAMESPACE}:${key}`]) {
            const decl = (config as Record<string, unknown>)[name];
            if (decl === undefined) continue;
            const fields = valueFields(decl, name === key);
            for (const field of fields) {
                const where = field ? `config.${name}.${field}` : `config.${name}`;
                issues.push({
                    path: key,
                    message: `is written in plain text in Pulumi.yaml (${where}), which is committed with the code; delete it from Pulumi.yaml, store it in each stack with \`${setCommand(key)}\` (it asks for the value), and replace the exposed value`,
                });
            }
        }
    }
    return issues;
}
