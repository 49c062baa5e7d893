// Type tokens follow folders: every ComponentResource under components/ registers as
// ai-dualstack:<its folder>:<its class>, so a URN says where its component's code lives. The test reads the
// sources, so a component added later is held to it without being listed here.

import * as fs from "fs";
import * as path from "path";
import { FORMER_TYPES, withFormerTypes } from "../../components/formerTypes";

const COMPONENTS = path.join(__dirname, "..", "..", "components");

interface Registration {
    file: string;
    className: string;
    token: string | undefined;
    /** The token its aliases are looked up under (withFormerTypes), if it has any. */
    renamed: string | undefined;
}

/**
 * Each concrete component in a source (a class extending pulumi.ComponentResource, or an abstract base
 * of components such as ScriptSetup, which takes its subclasses' tokens), with the token its
 * constructor's super() names.
 */
function registrations(file: string, bases: readonly string[]): Registration[] {
    const text = fs.readFileSync(file, "utf8");
    const parents = ["pulumi\\.ComponentResource", ...bases].join("|");
    const classes = [...text.matchAll(new RegExp(`(abstract )?class (\\w+) extends (?:${parents})\\b`, "g"))];
    return classes.flatMap((m, i) => {
        if (m[1]) return [];
        const body = text.slice(m.index, classes[i + 1]?.index ?? text.length);
        const token = /\bsuper\(\s*"([^"]*)"/.exec(body)?.[1];
        const renamed = /\bwithFormerTypes\(\s*"([^"]*)"/.exec(body)?.[1];
        return [{ file: path.relative(COMPONENTS, file), className: m[2] as string, token, renamed }];
    });
}

function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return sources(p);
        return e.name.endsWith(".ts") ? [p] : [];
    });
}

const files = sources(COMPONENTS);
/** The abstract bases components extend instead of ComponentResource itself. */
const bases = files.flatMap((f) =>
    [...fs.readFileSync(f, "utf8").matchAll(/abstract class (\w+) extends pulumi\.ComponentResource\b/g)].map(
        (m) => m[1] as string,
    ),
);
const found = files.flatMap((f) => registrations(f, bases));

test("the walk finds the components (a broken pattern would pass every check below)", () => {
    expect(found.map((r) => r.className)).toEqual(
        expect.arrayContaining(["GpuPassthroughVm", "ServiceLxc", "DataSetup", "ThroughputGate", "ProxmoxHost"]),
    );
    expect(found.length).toBeGreaterThanOrEqual(19);
    // The set-ups that extend the shared base are found through it, and the base itself is not a component.
    expect(bases).toEqual(["ScriptSetup"]);
    expect(found.map((r) => r.className)).toEqual(expect.arrayContaining(["RunnerSetup", "MonitoringServerSetup"]));
    expect(found.map((r) => r.className)).not.toContain("ScriptSetup");
});

test.each(found)("$file: $className registers as ai-dualstack:<folder>:$className", (r) => {
    const folder = path.dirname(r.file).split(path.sep)[0];
    expect(r.token).toBe(`ai-dualstack:${folder}:${r.className}`);
});

test.each(found.filter((r) => r.renamed !== undefined))("$file: $className takes the aliases of its own token", (r) => {
    expect(r.renamed).toBe(r.token);
});

test("every renamed token is a component's, and no earlier token is a current one", () => {
    const tokens = found.map((r) => r.token);
    expect(tokens).toEqual(expect.arrayContaining(Object.keys(FORMER_TYPES)));
    expect(found.filter((r) => r.renamed).map((r) => r.renamed)).toEqual(
        expect.arrayContaining(Object.keys(FORMER_TYPES)),
    );
    expect(
        Object.values(FORMER_TYPES)
            .flat()
            .filter((t) => tokens.includes(t)),
    ).toEqual([]);
});

test("an earlier token becomes an alias beside the caller's own", () => {
    const own = { type: "ai-dualstack:x:Own" };
    expect(withFormerTypes("ai-dualstack:serviceLxc:DataSetup", { protect: true, aliases: [own] })).toEqual({
        protect: true,
        aliases: [own, { type: "ai-dualstack:data:DataSetup" }, { type: "ai-dualstack:data:DataService" }],
    });
    expect(withFormerTypes("ai-dualstack:gpuVm:GpuPassthroughVm", undefined)).toEqual({
        aliases: [{ type: "ai-dualstack:compute:GpuPassthroughVm" }],
    });
});
