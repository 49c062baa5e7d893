// The replace guard (tools/replaceGuard.ts) on the real engine's own `pulumi preview --json` of the private stack.
// A replace only shows in a preview against existing state, and nothing here can `pulumi up` against a Proxmox
// host, so the state is built from the engine's own plan (testing/previewState.ts): the providers are created by a
// real targeted `up` (they dial nothing), every other resource as the preview planned it. A preview against that
// state must replace nothing; a new VMID must make the engine plan a replace of the GPU VM, and the guard must
// block it naming the VM and `vmId`.

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EngineStack } from "../../testing/engine";
import { engineConfig, previewOverrides, programSource } from "../../testing/engineConfig";
import { engineToolchain } from "../../testing/engineToolchain";
import {
    computedFromSchema,
    Deployment,
    PreviewJson,
    SavedPlan,
    secretInputs,
    stateFromPreview,
} from "../../testing/previewState";
import { PROJECT_DIR } from "../../testing/stackFiles";
import { findProtectedChanges } from "../../tools/replaceGuard";

const toolchain = engineToolchain();
const NOWHERE = (scheme: string) => `${scheme}://127.0.0.1:9/`; // discard port: nothing listens, nothing is dialed

const VM =
    "urn:pulumi:private::ai-dualstack::ai-dualstack:gpuVm:GpuPassthroughVm$proxmoxve:index/vmLegacy:VmLegacy::private-ai";

/** The stack's config with the VMs' fields in `vm` changed. */
function configWith(vm: Record<string, unknown> = {}) {
    const overrides = previewOverrides("private", NOWHERE, { gates: false });
    const vms = overrides["vms"] as Record<string, Record<string, unknown>>;
    for (const v of Object.values(vms)) Object.assign(v, vm);
    return engineConfig("private", overrides);
}

/** `pulumi preview --json` of the stack, parsed (with `--save-plan FILE` when asked). */
async function previewJson(engine: EngineStack, savePlan?: string): Promise<{ json: PreviewJson; text: string }> {
    const { stdout, stderr } = await engine.cli(["preview", "--json", ...(savePlan ? ["--save-plan", savePlan] : [])]);
    if (!stdout.trim().startsWith("{")) throw new Error(`pulumi preview --json printed no JSON:\n${stderr}`);
    return { json: JSON.parse(stdout) as PreviewJson, text: stdout };
}

/** Imports `state` into the stack with the CLI. */
async function importState(engine: EngineStack, state: Deployment): Promise<void> {
    const file = path.join(engine.dir, "state.json");
    fs.writeFileSync(file, JSON.stringify(state));
    const { code, stderr } = await engine.cli(["stack", "import", "--file", file]);
    if (code !== 0) throw new Error(`pulumi stack import failed:\n${stderr}`);
}

/**
 * Brings the stack to the state its preview plans: the providers by a real targeted `up`, the rest in two rounds
 * (the second fills in the ids the first preview did not know yet); protected as the program declares.
 */
async function deployFromPreview(engine: EngineStack): Promise<void> {
    // The saved plan holds the secret inputs the JSON masks, encrypted for this stack.
    const planFile = path.join(engine.dir, "plan.json");
    const first = (await previewJson(engine, planFile)).json;
    const secrets = secretInputs(JSON.parse(fs.readFileSync(planFile, "utf8")) as SavedPlan);
    const steps = first.steps ?? [];
    const keep = steps.filter((s) => s.newState?.type.startsWith("pulumi:providers:") || s.newState?.custom === false);
    const up = await engine.cli(["up", "--yes", "--skip-preview", ...keep.flatMap((s) => ["--target", s.urn])]);
    if (up.code !== 0) throw new Error(`the providers' up failed:\n${up.stdout}\n${up.stderr}`);
    const protect = new Set(steps.filter((s) => s.newState?.protect).map((s) => s.urn));
    const computed = computedFromSchema(await providerSchema());
    let preview = first;
    for (const round of [1, 2]) {
        const planned = (await engine.preview()).outputsByUrn;
        const current: Deployment = await engine.stack.exportStack();
        // Unprotected in the first round: its preview may plan replacements that the engine refuses on protected ones.
        await importState(
            engine,
            stateFromPreview(preview, current, {
                planned,
                computed,
                secrets,
                protect: round === 1 ? new Set() : protect,
            }),
        );
        if (round === 1) preview = (await previewJson(engine)).json;
    }
}

/** The proxmoxve provider's schema, from the plugin the engine runs (`pulumi package get-schema`). */
function providerSchema(): Promise<Parameters<typeof computedFromSchema>[0]> {
    const plugin = path.join(
        toolchain!.pulumiHome ?? "",
        "plugins",
        "resource-proxmoxve-v8.6.0",
        "pulumi-resource-proxmoxve",
    );
    return new Promise((resolve, reject) => {
        execFile(toolchain!.bin, ["package", "get-schema", plugin], { maxBuffer: 64 << 20 }, (err, stdout) =>
            err
                ? reject(new Error(`pulumi package get-schema failed: ${err.message}`))
                : resolve(JSON.parse(stdout) as Parameters<typeof computedFromSchema>[0]),
        );
    });
}

/** The guard run as CI runs it: its exit code and what it printed. */
function runGuard(file: string): Promise<{ code: number; out: string }> {
    const tsNode = path.join(PROJECT_DIR, "node_modules", ".bin", "ts-node");
    return new Promise((resolve) => {
        execFile(
            tsNode,
            ["--transpile-only", "tools/replaceGuard.ts", file],
            { cwd: PROJECT_DIR },
            (err, stdout, stderr) =>
                resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: stdout + stderr }),
        );
    });
}

(toolchain ? describe : describe.skip)("the replace guard on the real engine's preview of the private stack", () => {
    let engine: EngineStack;

    beforeAll(async () => {
        engine = await EngineStack.create({
            toolchain: toolchain!,
            stackName: "private",
            program: { source: programSource() },
        });
        const { plain, secrets } = configWith();
        await engine.setConfig(plain, secrets);
        await deployFromPreview(engine);
    }, 600_000);

    afterAll(async () => {
        await engine?.dispose();
    });

    test("against the deployed state, the same config replaces and deletes nothing, and the guard passes", async () => {
        const { json, text } = await previewJson(engine);
        const changes = (json.steps ?? []).filter((s) => !["same", "update"].includes(s.op));
        expect(changes.map((s) => `${s.op} ${s.urn} ${JSON.stringify(s.replaceReasons ?? s.diffReasons)}`)).toEqual([]);
        expect(findProtectedChanges(json)).toEqual([]);
        // What the state protects, as the program declares: the GPU VM, the ZFS pool, the data containers.
        const state: Deployment = await engine.stack.exportStack();
        const protectedNames = (state.deployment.resources ?? [])
            .filter((r) => r["protect"] === true)
            .map((r) => String(r["urn"]).split("::").pop())
            .sort();
        expect(protectedNames).toEqual([
            "private-ai",
            "private-backup",
            "private-postgres",
            "private-tank-private-pool",
        ]);
        const file = path.join(engine.dir, "same.json");
        fs.writeFileSync(file, text);
        const guard = await runGuard(file);
        expect(guard.code).toBe(0);
        expect(guard.out).toContain("no protected resource is replaced or deleted");
    });

    test("a new VMID: the engine plans a replace of the GPU VM, and the guard blocks it naming vmId", async () => {
        const { plain, secrets } = configWith({ vmid: 111 });
        await engine.setConfig(plain, secrets);
        const { json, text } = await previewJson(engine);
        const replaced = (json.steps ?? []).filter((s) => s.op === "replace").map((s) => s.urn);
        expect(replaced).toEqual([VM]);
        expect(findProtectedChanges(json)).toEqual([
            { urn: VM, name: "private-ai", kind: "GPU VM", op: "replace", properties: ["vmId"] },
        ]);
        const file = path.join(engine.dir, "vmid.json");
        fs.writeFileSync(file, text);
        const guard = await runGuard(file);
        expect(guard.code).toBe(1);
        expect(guard.out).toContain(
            `BLOCKED: the preview would replace GPU VM private-ai: vmId forces the replacement (${VM})`,
        );
    });
});
