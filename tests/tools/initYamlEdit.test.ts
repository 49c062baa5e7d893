// init's YAML edits: only the values that differ are rewritten, in the file's own layout; the rest of
// the text (comments, flow collections, quoting) stays byte for byte.

import { parse } from "yaml";
import { unifiedDiff } from "../../tools/init/diff";
import { setInText } from "../../tools/init/yamlEdit";

const FILE = `# top comment
config:
  nodes:
    value:
      pve1:
        address: 192.168.1.10 # the LAN address
        gpus:
          a:
            pciAddress: "0000:01:00.0"
            functions:
              - pciAddress: "0000:01:00.1"
                # audio
                subsystemId: "1458:416f"
        cpu:
          topology:
            efficiencyClusters: [8-11, 12-15]

  other: { keep: [1, 2] }
`;

test("a scalar keeps its quoting and its line comment", () => {
    const out = setInText(FILE, [
        { path: ["config", "nodes", "value", "pve1", "address"], value: "10.0.0.2" },
        { path: ["config", "nodes", "value", "pve1", "gpus", "a", "pciAddress"], value: "0000:03:00.0" },
    ]);
    expect(out).toBe(
        FILE.replace("192.168.1.10 #", "10.0.0.2 #").replace(
            'pciAddress: "0000:01:00.0"',
            'pciAddress: "0000:03:00.0"',
        ),
    );
});

test("an equal value changes nothing", () => {
    const same = [
        {
            path: ["config", "nodes", "value", "pve1", "cpu", "topology", "efficiencyClusters"],
            value: ["8-11", "12-15"],
        },
        {
            path: ["config", "nodes", "value", "pve1", "gpus", "a", "functions"],
            value: [{ pciAddress: "0000:01:00.1", subsystemId: "1458:416f" }],
        },
    ];
    expect(setInText(FILE, same)).toBe(FILE);
});

test("a longer list is rewritten in its style; a missing key and a missing node are inserted at their indentation", () => {
    const out = setInText(FILE, [
        {
            path: ["config", "nodes", "value", "pve1", "cpu", "topology", "efficiencyClusters"],
            value: ["8-11", "12-15", "16-19"],
        },
        {
            path: ["config", "nodes", "value", "pve1", "gpus", "a", "functions"],
            value: [
                { pciAddress: "0000:01:00.1", subsystemId: "1458:416f" },
                { pciAddress: "0000:01:00.2", subsystemId: "1458:416f" },
            ],
        },
        { path: ["config", "nodes", "value", "pve1", "gpus", "a", "iommuGroup"], value: 14 },
        { path: ["config", "nodes", "value", "pve2", "memory", "totalGiB"], value: 61 },
    ]);
    expect(out).toContain("            efficiencyClusters: [8-11, 12-15, 16-19]\n");
    expect(out).toContain('              - pciAddress: "0000:01:00.2"\n                subsystemId: "1458:416f"\n');
    expect(out).toContain("# top comment\n");
    expect(out).toContain("          totalGiB: 61\n\n  other: { keep: [1, 2] }\n");
    expect(parse(out)).toEqual({
        config: {
            nodes: {
                value: {
                    pve1: {
                        address: "192.168.1.10",
                        gpus: {
                            a: {
                                pciAddress: "0000:01:00.0",
                                iommuGroup: 14,
                                functions: [
                                    { pciAddress: "0000:01:00.1", subsystemId: "1458:416f" },
                                    { pciAddress: "0000:01:00.2", subsystemId: "1458:416f" },
                                ],
                            },
                        },
                        cpu: { topology: { efficiencyClusters: ["8-11", "12-15", "16-19"] } },
                    },
                    pve2: { memory: { totalGiB: 61 } },
                },
            },
            other: { keep: [1, 2] },
        },
    });
});

test("the diff: unified hunks with their line numbers, removals before additions", () => {
    const before = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].join("\n");
    const after = ["a", "b", "c", "D", "e", "f", "g", "h", "i", "j", "k"].join("\n");
    expect(unifiedDiff(before, after, "f.yaml", 1)).toBe(
        [
            "--- f.yaml",
            "+++ f.yaml (proposed)",
            "@@ -3,3 +3,3 @@",
            " c",
            "-d",
            "+D",
            " e",
            "@@ -10,1 +10,2 @@",
            " j",
            "+k",
            "",
        ].join("\n"),
    );
    expect(unifiedDiff(before, before, "f.yaml")).toBe("");
});
