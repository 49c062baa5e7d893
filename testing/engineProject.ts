// The work dir of a stack whose program the language host runs from disk, and the config values' shapes as the
// Automation API passes them (testing/engine.ts).

import * as fs from "fs";
import * as path from "path";

import { ConfigMap } from "@pulumi/pulumi/automation";

/** A project folder the language host runs: Pulumi.yaml, the program, and the project's node_modules. */
export function writeProject(workDir: string, name: string, source: string): string {
    fs.writeFileSync(
        path.join(workDir, "Pulumi.yaml"),
        `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n`,
    );
    fs.writeFileSync(path.join(workDir, "index.js"), source);
    fs.symlinkSync(path.resolve(__dirname, "..", "node_modules"), path.join(workDir, "node_modules"));
    return workDir;
}

export function isObject(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object";
}

export function parseMaybe(s: string): unknown {
    try {
        return /^[[{]/.test(s) ? JSON.parse(s) : s;
    } catch {
        return s;
    }
}

/** Paths to each leaf of a secret object (`ns:key.a["b.c"][0]`), as strings. */
export function flattenSecret(prefix: string, value: unknown, into: ConfigMap): void {
    if (!isObject(value)) {
        into[prefix] = { value: typeof value === "string" ? value : JSON.stringify(value), secret: true };
        return;
    }
    for (const [k, v] of Object.entries(value)) {
        const step = Array.isArray(value) ? `[${k}]` : /^[A-Za-z_][\w-]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
        flattenSecret(`${prefix}${step}`, v, into);
    }
}
