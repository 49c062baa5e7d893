// The benchmark's generated configs are valid, so bench/plan.ts measures a real plan, not a failure.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { generateConfig } from "../../bench/generate";
import { ofType, runStack } from "../helpers/pulumi";

test("64 generated guests plan cleanly: one GPU VM per node, the rest containers", async () => {
    const run = await runStack("private", generateConfig(64).overrides);
    expect(ofType(run.resources, proxmoxve.VmLegacy)).toHaveLength(4);
    expect(ofType(run.resources, proxmoxve.ContainerLegacy)).toHaveLength(60);
    expect(ofType(run.resources, proxmoxve.hardware.mapping.Pci).map((m) => m.inputs["name"])).toEqual([
        "private-gpu1",
        "private-gpu2",
        "private-gpu3",
        "private-gpu4",
    ]);
});

test("the generator refuses sizes the id range cannot hold", () => {
    expect(() => generateConfig(0)).toThrow("between 1 and 95");
    expect(() => generateConfig(200)).toThrow("between 1 and 95");
});
