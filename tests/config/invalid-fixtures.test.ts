// The corpus of malformed configs (tests/fixtures/invalid/*.yaml), one defect each: every one is
// rejected with its path and its whole message (what is wrong and the fix), and the program
// registers no resource at all.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { ConfigError, decodeValue, qualifiedPath } from "../../config/load";
import { PROJECT_ROOT } from "../../lib/paths";
import { runOffline } from "../../testing/mockRuntime";
import { readStackConfig } from "../../testing/stackFiles";

interface Fixture {
    description: string;
    stack: string;
    stackName?: string;
    set?: Record<string, unknown>;
    unset?: string[];
    secrets?: Record<string, string>;
    /** Keys to rename: the path of a key, and its new name (a guest renamed keeps its whole config). */
    rename?: Record<string, string>;
    /** Edits to the files themselves (Pulumi.yaml, Pulumi.<stack>.yaml), made in a copy of the project. */
    files?: Record<string, { set?: Record<string, unknown>; rename?: Record<string, string> }>;
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

type Edit = { set: unknown } | { rename: string } | "unset";

function edit(tree: Record<string, unknown>, p: string, op: Edit): void {
    const parts = splitPath(p);
    let node: Record<string | number, unknown> = tree;
    for (const part of parts.slice(0, -1)) {
        const next = node[part];
        if (next === null || typeof next !== "object") throw new Error(`fixture path ${p} does not exist at ${part}`);
        node = next as Record<string | number, unknown>;
    }
    const last = parts[parts.length - 1] as string | number;
    if (op === "unset" || "rename" in op) {
        if (!(last in node)) throw new Error(`fixture path ${p} does not exist`);
        if (op !== "unset") node[op.rename] = node[last];
        delete node[last];
    } else {
        node[last] = op.set;
    }
}

/** A copy of the project's files with the fixture's file edits, or the repository when it has none. */
function projectWith(fx: Fixture): string | undefined {
    if (!fx.files) return undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "invalid-fixture-"));
    for (const file of fs.readdirSync(PROJECT_ROOT).filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f))) {
        fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(dir, file));
    }
    for (const [file, edits] of Object.entries(fx.files)) {
        const tree = parse(fs.readFileSync(path.join(dir, file), "utf8")) as Record<string, unknown>;
        for (const [p, value] of Object.entries(edits.set ?? {})) edit(tree, p, { set: value });
        for (const [p, to] of Object.entries(edits.rename ?? {})) edit(tree, p, { rename: to });
        fs.writeFileSync(path.join(dir, file), stringify(tree));
    }
    return dir;
}

/** The stack's merged config with the fixture's edits, as the engine would pass it. */
function fixtureConfig(fx: Fixture, projectDir: string | undefined) {
    const files = readStackConfig(fx.stack, {
        ...(fx.secrets ? { secretOverrides: fx.secrets } : {}),
        ...(projectDir ? { projectDir } : {}),
    });
    const prefix = "ai-dualstack:";
    const tree: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(files.config)) {
        const bare = key.slice(prefix.length);
        tree[bare] = decodeValue(bare, text);
    }
    for (const [p, value] of Object.entries(fx.set ?? {})) edit(tree, p, { set: value });
    for (const p of fx.unset ?? []) edit(tree, p, "unset");
    for (const [p, to] of Object.entries(fx.rename ?? {})) edit(tree, p, { rename: to });
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
        const projectDir = projectWith(fx);
        const { config, secretKeys } = fixtureConfig(fx, projectDir);
        const { runProgram } = await import("../../stacks");
        const { assumeHosts } = await import("../../testing/planStack");
        const { error, resources } = await runOffline({
            stack: fx.stackName ?? fx.stack,
            config,
            secretKeys,
            program: () =>
                runProgram({ checkHosts: assumeHosts("ready"), offline: true, ...(projectDir ? { projectDir } : {}) }),
        });
        const registered = resources.map((r) => r.type);
        if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });

        expect(error).toBeInstanceOf(ConfigError);
        const configError = error as ConfigError;
        expect(configError.issues).toHaveLength(1);
        expect(configError.issues[0]).toEqual(fx.expect);
        // The whole finding, as the user reads it: path, then the message with the fix.
        expect(configError.message).toContain(`\n  ${qualifiedPath(fx.expect.path)}: ${fx.expect.message}\n`);
        expect(registered.filter((t) => t !== "pulumi:pulumi:Stack")).toEqual([]);
        for (const value of Object.values(fx.secrets ?? {})) {
            expect(configError.message).not.toContain(value);
        }
    });
});
