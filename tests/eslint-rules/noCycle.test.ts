// The lint rule that keeps import circles out (eslint-rules/no-cycle.mjs), run by ESLint itself on
// throwaway files: a circle is reported on each file in it with the whole path, type-only imports
// and folder index files included; a file that only imports into a circle, and a dynamic import(),
// are not circles.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

/** ESLint's messages for each file, with only the local rule on (the rule is ESM: a child node runs it). */
function lint(dir: string, files: string[]): Record<string, string[]> {
    const script = `
        import { Linter } from "eslint";
        import tseslint from "typescript-eslint";
        import fs from "node:fs";
        import path from "node:path";
        import rule from ${JSON.stringify(path.join(ROOT, "eslint-rules", "no-cycle.mjs"))};
        const [dir, ...files] = JSON.parse(process.argv[1]);
        const linter = new Linter({ configType: "flat", cwd: dir });
        const config = [{
            files: ["**/*.ts"],
            languageOptions: { parser: tseslint.parser },
            plugins: { local: { rules: { "no-cycle": rule } } },
            rules: { "local/no-cycle": "error" },
        }];
        const out = {};
        for (const f of files) {
            const full = path.join(dir, f);
            out[f] = linter.verify(fs.readFileSync(full, "utf8"), config, { filename: full }).map((m) => m.message);
        }
        console.log(JSON.stringify(out));
    `;
    const stdout = execFileSync(
        process.execPath,
        ["--input-type=module", "-e", script, JSON.stringify([dir, ...files])],
        {
            cwd: ROOT,
            encoding: "utf8",
        },
    );
    return JSON.parse(stdout) as Record<string, string[]>;
}

function project(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-cycle-"));
    for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
}

const fix = "move what both sides need into a file of its own, or pass it in";

test("a circle through a type-only import and a folder index is reported on each file in it", () => {
    const dir = project({
        "a.ts": 'import type { B } from "./b";\nexport type A = { b?: B };\n',
        "b.ts": 'import { C } from "./deep";\nexport type B = C;\n',
        "deep/index.ts": 'export { type A as C } from "../a";\n',
        "outside.ts": 'import type { A } from "./a";\nexport type O = A;\n',
    });
    expect(lint(dir, ["a.ts", "b.ts", "deep/index.ts", "outside.ts"])).toEqual({
        "a.ts": [`import circle: a.ts → b.ts → deep/index.ts → a.ts; ${fix}`],
        "b.ts": [`import circle: b.ts → deep/index.ts → a.ts → b.ts; ${fix}`],
        "deep/index.ts": [`import circle: deep/index.ts → a.ts → b.ts → deep/index.ts; ${fix}`],
        // It imports into the circle, but nothing leads back to it.
        "outside.ts": [],
    });
});

test("a dynamic import() runs after load and closes no circle", () => {
    const dir = project({
        "a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
        "b.ts": 'export const b = async () => (await import("./a")).a;\n',
    });
    expect(lint(dir, ["a.ts", "b.ts"])).toEqual({ "a.ts": [], "b.ts": [] });
});
