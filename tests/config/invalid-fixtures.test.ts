// The corpus of malformed configs (tests/fixtures/invalid/*.yaml), one defect each: every one is
// rejected with its path and its whole message (what is wrong and the fix), and the program
// registers no resource at all.

import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError, decodeValue } from "../../config/load";
import { runOffline } from "../../testing/mockRuntime";
import { readStackConfig } from "../../testing/stackFiles";

interface Fixture {
    description: string;
    stack: string;
    stackName?: string;
    set?: Record<string, unknown>;
    unset?: string[];
    secrets?: Record<string, string>;
    expect: { path: string; message: string };
}

const DIR = path.join(__dirname, "..", "fixtures", "invalid");

/** "nodes.pve1.disks[0]" → ["nodes", "pve1", "disks", 0] */
function splitPath(p: string): (string | number)[] {
    return p.split(".").flatMap((part) => {
        const m = /^([^[]+)((\[\d+\])*)$/.exec(part);
        if (!m) throw new Error(`bad fixture path ${p}`);
        const indexes = [...(m[2] ?? "").matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
        return [m[1] as string, ...indexes];
    });
}

function edit(tree: Record<string, unknown>, p: string, op: { set: unknown } | "unset"): void {
    const parts = splitPath(p);
    let node: Record<string | number, unknown> = tree;
    for (const part of parts.slice(0, -1)) {
        const next = node[part];
        if (next === null || typeof next !== "object") throw new Error(`fixture path ${p} does not exist at ${part}`);
        node = next as Record<string | number, unknown>;
    }
    const last = parts[parts.length - 1] as string | number;
    if (op === "unset") {
        if (!(last in node)) throw new Error(`fixture path ${p} does not exist`);
        delete node[last];
    } else {
        node[last] = op.set;
    }
}

/** The stack's merged config with the fixture's edits, as the engine would pass it. */
function fixtureConfig(fx: Fixture) {
    const files = readStackConfig(fx.stack, fx.secrets ? { secretOverrides: fx.secrets } : {});
    const prefix = "ai-dualstack:";
    const tree: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(files.config)) {
        const bare = key.slice(prefix.length);
        tree[bare] = decodeValue(bare, text);
    }
    for (const [p, value] of Object.entries(fx.set ?? {})) edit(tree, p, { set: value });
    for (const p of fx.unset ?? []) edit(tree, p, "unset");
    const config = Object.fromEntries(
        Object.entries(tree).map(([k, v]) => [`${prefix}${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    return { config, secretKeys: files.secretKeys };
}

const fixtures = fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => ({ file, fx: parse(fs.readFileSync(path.join(DIR, file), "utf8")) as Fixture }));

test("the corpus holds at least 25 malformed configs", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
});

describe.each(fixtures)("$file", ({ fx }) => {
    test(`is rejected: ${fx.description}`, async () => {
        const { config, secretKeys } = fixtureConfig(fx);
        const { runProgram } = await import("../../stacks");
        const { assumeHosts } = await import("../../testing/planStack");
        const { error, resources } = await runOffline({
            stack: fx.stackName ?? fx.stack,
            config,
            secretKeys,
            program: () => runProgram({ checkHosts: assumeHosts("ready"), offline: true }),
        });
        const registered = resources.map((r) => r.type);

        expect(error).toBeInstanceOf(ConfigError);
        const configError = error as ConfigError;
        expect(configError.issues).toHaveLength(1);
        expect(configError.issues[0]).toEqual(fx.expect);
        // The whole finding, as the user reads it: path, then the message with the fix.
        expect(configError.message).toContain(`\n  ai-dualstack:${fx.expect.path}: ${fx.expect.message}\n`);
        expect(registered.filter((t) => t !== "pulumi:pulumi:Stack")).toEqual([]);
        for (const value of Object.values(fx.secrets ?? {})) {
            expect(configError.message).not.toContain(value);
        }
    });
});
