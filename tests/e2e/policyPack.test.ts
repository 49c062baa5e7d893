// A policy pack run by the real engine (through the Node.js language host) against a tiny inline program: a
// mandatory violation blocks `preview` and `up` before anything is created, an advisory one is reported and
// blocks nothing.

import * as command from "@pulumi/command";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineRun, EngineStack, failureOf } from "../../testing/engine";
import { engineToolchain } from "../../testing/engineToolchain";
import { PROJECT_DIR } from "../../testing/stackFiles";

const toolchain = engineToolchain();

/** The pack, as its own folder would hold it; `validateResourceOfType` takes the class, never a type string. */
const PACK_INDEX = `"use strict";
const { PolicyPack, validateResourceOfType } = require("@pulumi/policy");
const command = require("@pulumi/command");

new PolicyPack("e2e-local-commands", {
    policies: [
        {
            name: "local-command-no-sudo",
            description: "A local command never escalates with sudo.",
            enforcementLevel: "mandatory",
            validateResource: validateResourceOfType(command.local.Command, (cmd, _args, reportViolation) => {
                if (/\\bsudo\\b/.test(cmd.create || "")) reportViolation("create runs sudo: " + cmd.create);
            }),
        },
        {
            name: "local-command-has-delete",
            description: "A local command says how to undo what it did.",
            enforcementLevel: "advisory",
            validateResource: validateResourceOfType(command.local.Command, (cmd, _args, reportViolation) => {
                if (!cmd.delete) reportViolation("no delete command: destroy leaves what create did");
            }),
        },
    ],
});
`;

/** Writes the pack into a temporary folder; its node_modules is the project's (the pack has no install step). */
function writePack(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-policy-"));
    fs.writeFileSync(
        path.join(dir, "PulumiPolicy.yaml"),
        "runtime:\n  name: nodejs\n  options:\n    typescript: false\ndescription: Two rules on local commands.\n",
    );
    fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ name: "e2e-local-commands", version: "0.1.0", main: "index.js" }),
    );
    fs.writeFileSync(path.join(dir, "index.js"), PACK_INDEX);
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

const violations = (run: EngineRun, policy: string) => run.policyViolations.filter((v) => v.policyName === policy);

(toolchain ? describe : describe.skip)("a policy pack under the real engine", () => {
    let pack: string;
    let work: string;

    beforeAll(() => {
        pack = writePack();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "aids-policy-work-"));
    });

    afterAll(() => {
        for (const dir of [pack, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** A stack whose one local command writes a marker file: whether it ran is then plain to see. */
    async function stackWith(name: string, create: string): Promise<EngineStack> {
        return EngineStack.create({
            toolchain: toolchain!,
            stackName: name,
            program: () => {
                const cmd = new command.local.Command("marker", { create, dir: work });
                return { stdout: cmd.stdout };
            },
        });
    }

    test("an advisory violation is reported and blocks neither preview nor up", async () => {
        const engine = await stackWith("advisory", "echo ran > advisory.txt && echo created");
        try {
            const preview = await engine.preview({ policyPacks: [pack] });
            expect(preview.changeSummary).toEqual({ create: 2 });
            expect(violations(preview, "local-command-has-delete")).toEqual([
                {
                    policyName: "local-command-has-delete",
                    enforcementLevel: "advisory",
                    message:
                        "A local command says how to undo what it did.\nno delete command: destroy leaves what create did\n",
                    urn: "urn:pulumi:advisory::ai-dualstack::command:local:Command::marker",
                },
            ]);
            expect(violations(preview, "local-command-no-sudo")).toEqual([]);

            const up = await engine.up({ policyPacks: [pack] });
            expect(up.changeSummary).toEqual({ create: 2 });
            expect(violations(up, "local-command-has-delete")).toHaveLength(1);
            expect(up.outputs["stdout"]).toBe("created");
            expect(fs.readFileSync(path.join(work, "advisory.txt"), "utf8")).toBe("ran\n");
            expect((await engine.refresh()).changeSummary).toEqual({ same: 2 });
            expect((await engine.destroy()).changeSummary).toEqual({ delete: 2 });
        } finally {
            await engine.dispose();
        }
    });

    test("a mandatory violation blocks preview and up, and nothing runs", async () => {
        const engine = await stackWith("mandatory", "sudo true; echo ran > mandatory.txt");
        try {
            for (const op of [
                () => engine.preview({ policyPacks: [pack] }),
                () => engine.up({ policyPacks: [pack] }),
            ]) {
                const { run } = await failureOf(op());
                expect(violations(run, "local-command-no-sudo")).toEqual([
                    {
                        policyName: "local-command-no-sudo",
                        enforcementLevel: "mandatory",
                        message:
                            "A local command never escalates with sudo.\ncreate runs sudo: sudo true; echo ran > mandatory.txt\n",
                        urn: "urn:pulumi:mandatory::ai-dualstack::command:local:Command::marker",
                    },
                ]);
            }
            expect(fs.existsSync(path.join(work, "mandatory.txt"))).toBe(false);
            const state = (await engine.stack.exportStack()).deployment as { resources?: { type: string }[] };
            const types = (state.resources ?? []).map((r) => r.type);
            expect(types).not.toContain("command:local:Command");
        } finally {
            await engine.dispose();
        }
    });
});
