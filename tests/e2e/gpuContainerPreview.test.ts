// A real `pulumi preview` of the public stack in its container form (issue 24): the project's program, run by the
// real engine with the real plugins and the project's policy pack, plans what the offline plan plans (a GPU
// container, no VM, no PCI mapping), warns as it does, reports the shared-kernel trade-off as an advisory
// violation only, and dials nothing.

import * as path from "path";
import { policies } from "../../policy/policies";
import { runProgram } from "../../stacks";
import { EngineStack } from "../../testing/engine";
import { engineConfig, previewOverrides } from "../../testing/engineConfig";
import { engineToolchain } from "../../testing/engineToolchain";
import { publicAsContainer } from "../../testing/gpuContainerStack";
import { assumeHosts, planStack } from "../../testing/planStack";
import { runPolicies } from "../../testing/policyRun";
import { PROJECT_DIR } from "../../testing/stackFiles";

const toolchain = engineToolchain();
const CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy";
const PLUGIN_VERSION_WARNING = /^resource plugin proxmoxve is expected to have version >=8\.6\.0, but has 8\.3\.0/;

/** The preview's config: the committed public stack in container form, no services, the gate on a dead port. */
function overrides(): Record<string, unknown> {
    // A closed loopback port: the preview must dial nothing, and nothing listens there.
    const preview = previewOverrides("public", (scheme) => `${scheme}://127.0.0.1:9/`);
    const form = publicAsContainer();
    const vms = preview["vms"] as Record<string, Record<string, unknown>>;
    for (const vm of Object.values(vms)) vm["kind"] = "container";
    return { ...preview, nodes: form["nodes"], vms };
}

(toolchain ? describe : describe.skip)("a real pulumi preview of the public stack as a GPU container", () => {
    let engine: EngineStack;

    beforeAll(async () => {
        engine = await EngineStack.create({
            toolchain: toolchain!,
            stackName: "public",
            program: () => runProgram({ checkHosts: assumeHosts("ready") }),
        });
        const { plain, secrets } = engineConfig("public", overrides());
        await engine.setConfig(plain, secrets);
    });

    afterAll(async () => {
        await engine?.dispose();
    });

    test("plans what the offline plan plans, warns as it does, and the pack reports the trade-off as advisory only", async () => {
        const run = await engine.preview({ policyPacks: [path.join(PROJECT_DIR, "policy")] });
        expect(run.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
        const offline = await planStack("public", { overrides: overrides() });

        // Creates per type among the custom resources, as the offline plan registers them.
        const components = new Set(offline.resources.filter((r) => !r.custom).map((r) => r.type));
        const count = (types: string[]) =>
            types.reduce<Record<string, number>>((c, t) => ({ ...c, [t]: (c[t] ?? 0) + 1 }), {});
        const creates = run.steps.filter(
            (s) =>
                s.op === "create" &&
                s.type !== "pulumi:pulumi:Stack" &&
                !components.has(s.type) &&
                !/::pulumi:providers:[^:]+::default(_[\d_]+)?$/.test(s.urn),
        );
        const planned = count(offline.resources.filter((r) => r.custom).map((r) => r.type));
        expect(count(creates.map((s) => s.type))).toEqual(planned);
        expect(
            creates.find((s) => s.urn.endsWith(`::ai-dualstack:gpuContainer:GpuContainer$${CONTAINER}::public-ai`)),
        ).toBeDefined();
        expect(planned["proxmoxve:index/vmLegacy:VmLegacy"]).toBeUndefined();
        expect(planned["proxmoxve:hardware/mapping/pci:Pci"]).toBeUndefined();

        const warnings = run.diagnostics.filter((d) => d.severity === "warning").map((d) => d.message.trim());
        expect(warnings.filter((w) => !PLUGIN_VERSION_WARNING.test(w)).sort()).toEqual(
            offline.notes
                .filter((n) => n.startsWith("warning: "))
                .map((n) => n.slice("warning: ".length))
                .sort(),
        );
        expect(warnings.some((w) => w.startsWith("ai-dualstack:vms.public-ai.kind: the internet-facing"))).toBe(true);

        const offlineViolations = await runPolicies(policies, offline.resources);
        expect(offlineViolations.filter((v) => v.level === "mandatory")).toEqual([]);
        expect(run.policyViolations.filter((v) => v.enforcementLevel !== "advisory")).toEqual([]);
        expect(run.policyViolations.map((v) => v.policyName)).toContain("public-gpu-container-shares-kernel");
    });
});
