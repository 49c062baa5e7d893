// docs/config-reference.md is the schema's, so it cannot drift from what the program accepts.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    BEGIN,
    END,
    REFERENCE_FILE,
    generatedSection,
    normalize,
    refreshReference,
    renderConfigReference,
    withFreshReference,
} from "../../tools/configDocs";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const reference = fs.readFileSync(REFERENCE_FILE, "utf8");

test("docs/config-reference.md matches config/schema (run `npm run docs:config` after a schema change)", () => {
    const section = generatedSection(reference);
    expect(section).toBeDefined();
    expect(normalize(section ?? "")).toBe(normalize(renderConfigReference()));
});

test("docs/config-reference.md is committed exactly as rendered, and prettier leaves it alone", () => {
    expect(reference).toBe(withFreshReference(reference));
    const ignored = fs.readFileSync(path.join(PROJECT_DIR, ".prettierignore"), "utf8").split("\n");
    expect(ignored).toContain("docs/config-reference.md");
});

test("the generated section is found between the markers, and only there", () => {
    expect(generatedSection(`intro\n${BEGIN}\n\n| a |\n\n${END}\noutro`)).toBe("| a |");
    expect(generatedSection("no markers")).toBeUndefined();
    expect(generatedSection(`${END}\n${BEGIN}`)).toBeUndefined();
    const doc = `# Title\n\nprose\n\n${BEGIN}\nstale\n${END}\n`;
    const fresh = withFreshReference(doc);
    expect(fresh.startsWith(`# Title\n\nprose\n\n${BEGIN}\n\n`)).toBe(true);
    expect(fresh.endsWith(`\n\n${END}\n`)).toBe(true);
    expect(fresh).not.toContain("stale");
    expect(() => withFreshReference("no markers")).toThrow(/markers/);
});

test("the README links to the config reference instead of holding it", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    expect(readme).not.toContain(BEGIN);
    expect(readme).toContain("docs/config-reference.md");
});

test("every key is documented, down to the leaves, with its default", () => {
    const reference = renderConfigReference();
    for (const key of [
        "`ai-dualstack:proxmoxApiToken`",
        "`nodes.<node>.gpus.<gpu>.memoryBandwidthGBs`",
        "`nodes.<node>.allocations.private.hugepagesGiB` | number | `0`",
        '`vms.<vm>.cloudInit.nvidiaDriverBranch` | string | `"570"`',
        "`containers.<container>.firewall.inbound[].source`",
        "`proxmox.insecure` | boolean | `false`",
    ]) {
        expect(reference).toContain(key);
    }
    // No row without a meaning.
    const rows = reference.split("\n").filter((l) => l.startsWith("| `"));
    expect(rows.filter((r) => r.trimEnd().endsWith("|  |"))).toEqual([]);
    // A <placeholder> outside a code span would vanish as HTML, in a heading as in a cell.
    for (const heading of reference.split("\n").filter((l) => l.startsWith("#"))) {
        expect(heading.replace(/`[^`]*`/g, "")).not.toMatch(/<\w+>/);
    }
});

test("Pulumi.yaml documents every top-level key it declares", () => {
    const project = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8");
    for (const key of [
        "environment",
        "proxmoxApiToken",
        "sshPrivateKey",
        "proxmox",
        "nodes",
        "environments",
        "vms",
        "containers",
    ]) {
        expect(project).toMatch(new RegExp(`^  ${key}:\\n    type: \\w+\\n(    .*\\n)*?    description: `, "m"));
    }
});

test("npm run docs:config says updated only when the section changed, and leaves an unchanged file unwritten", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aids-docs-")), "ref.md");
    fs.writeFileSync(file, `# Title\n\n${BEGIN}\nstale\n${END}\n`);
    expect(refreshReference(file)).toBe("updated");
    const written = fs.statSync(file).mtimeMs;
    fs.utimesSync(file, new Date(0), new Date(0));
    expect(refreshReference(file)).toBe("unchanged");
    expect(fs.statSync(file).mtimeMs).toBe(0);
    expect(written).toBeGreaterThan(0);
});
