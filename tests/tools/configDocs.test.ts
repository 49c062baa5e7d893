// The README's config reference is the schema's, so it cannot drift from what the program accepts.

import * as fs from "fs";
import * as path from "path";
import { normalize, readmeSection, renderConfigReference } from "../../tools/configDocs";
import { PROJECT_DIR } from "../../tools/stackFiles";

const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");

test("README.md's config reference matches config/schema.ts (run `npm run docs:config` after a schema change)", () => {
    const section = readmeSection(readme);
    expect(section).toBeDefined();
    expect(normalize(section ?? "")).toBe(normalize(renderConfigReference()));
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
