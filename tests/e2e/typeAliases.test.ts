// The renamed components' aliases under the real engine: a state written under the earlier type tokens, each
// component with a command and a nested component (with its own command) beneath it, previews under the tokens
// now with nothing to create, replace or delete. Without the aliases the same preview replaces all of it, so the
// test can tell.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { FORMER_TYPES, RenamedType, withFormerTypes } from "../../components/formerTypes";
import { EngineStack } from "../../testing/engine";
import { engineToolchain } from "../../testing/engineToolchain";

const toolchain = engineToolchain();
jest.setTimeout(300_000);

/** Which tokens the program registers under: the earlier ones, the ones now with aliases, or now without. */
type Stage = "former" | "aliased" | "unaliased";

class Renamed extends pulumi.ComponentResource {
    constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        // A custom child and a nested component with its own, as GpuPassthroughVm and ServiceLxc have.
        new command.local.Command(`${name}-step`, { create: "true" }, { parent: this });
        const inner = new pulumi.ComponentResource(
            "ai-dualstack:network:GuestFirewall",
            `${name}-fw`,
            {},
            { parent: this },
        );
        new command.local.Command(`${name}-fw-rules`, { create: "true" }, { parent: inner });
        this.registerOutputs({});
    }
}

/** One component for each earlier token of each renamed one (DataSetup had two). */
const CASES = (Object.entries(FORMER_TYPES) as [RenamedType, readonly string[]][]).flatMap(([now, former]) =>
    former.map((old, i) => ({ now, old, name: `${now.split(":").pop()}-${i}`.toLowerCase() })),
);

function program(stage: () => Stage): () => void {
    return () => {
        for (const c of CASES) {
            const s = stage();
            if (s === "former") new Renamed(c.old, c.name);
            else new Renamed(c.now, c.name, s === "aliased" ? withFormerTypes(c.now, undefined) : undefined);
        }
    };
}

(toolchain ? describe : describe.skip)("the earlier type tokens, as aliases, under the real engine", () => {
    let stage: Stage = "former";
    let engine: EngineStack;

    beforeAll(async () => {
        engine = await EngineStack.create({
            toolchain: toolchain!,
            stackName: "type-aliases",
            program: program(() => stage),
        });
        const up = await engine.up();
        // Four resources per case (component, command, nested component, its command), and the stack.
        expect(up.changeSummary["create"]).toBe(4 * CASES.length + 1);
    });

    afterAll(async () => {
        await engine?.destroy();
        await engine?.dispose();
    });

    test("the state under the earlier tokens previews under the tokens now with every resource the same", async () => {
        stage = "aliased";
        const run = await engine.preview();
        expect(run.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn}`)).toEqual([]);
        // The preview ran the program now: each renamed component, under its token now, found its old self.
        const components = run.steps.filter((s) => s.type in FORMER_TYPES);
        expect(components.map((s) => s.type).sort()).toEqual(CASES.map((c) => c.now).sort());
        expect(run.changeSummary).toEqual({ same: 4 * CASES.length + 1 });
    });

    test("without the aliases, the same preview would replace every resource beneath them", async () => {
        stage = "unaliased";
        const run = await engine.preview();
        expect(run.changeSummary["create"]).toBe(4 * CASES.length);
        expect(run.changeSummary["delete"]).toBe(4 * CASES.length);
    });
});
