// A rollback round trip under the real engine and the Node.js language host: a small project in a
// git repository deployed at v1 and v2, then `npm run rollback` back to v1. The outputs and the
// config are v1's again, and the history lists all three updates. Refusals are checked too.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { engineToolchain } from "../../testing/engineToolchain";
import { PROJECT_DIR } from "../../testing/stackFiles";
import { main } from "../../tools/rollback";

const toolchain = engineToolchain();
jest.setTimeout(300_000);

const git = (dir: string, ...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" });
const PROGRAM = (version: string) =>
    `const pulumi = require("@pulumi/pulumi");\nconst cfg = new pulumi.Config();\nmodule.exports = { version: "${version}", greeting: cfg.require("greeting") };\n`;

/** Captures what the CLI prints while it runs. */
async function run(argv: string[]): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const log = jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
    const err = jest.spyOn(console, "error").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
        return { code: await main(argv), out: lines.join("\n") };
    } finally {
        log.mockRestore();
        err.mockRestore();
        write.mockRestore();
    }
}

(toolchain ? describe : describe.skip)("a rollback round trip (real engine, language host, git)", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-rollback-e2e-"));
    const repo = path.join(root, "repo");
    const saved = { ...process.env };
    let stack: Stack;

    /** Commits the program and the stack's config at a version, then deploys it. */
    async function deploy(version: string, greeting: string): Promise<void> {
        fs.writeFileSync(path.join(repo, "index.js"), PROGRAM(version));
        await stack.setConfig("greeting", { value: greeting });
        git(repo, "add", "-A");
        git(repo, "commit", "-q", "-m", version);
        await stack.up();
    }

    beforeAll(async () => {
        fs.mkdirSync(path.join(root, "backend"));
        fs.mkdirSync(repo);
        Object.assign(process.env, {
            PULUMI_BACKEND_URL: `file://${path.join(root, "backend")}`,
            PULUMI_CONFIG_PASSPHRASE: "aids-e2e-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            ...(toolchain!.pulumiHome ? { PULUMI_HOME: toolchain!.pulumiHome } : {}),
            AIDS_PULUMI_BIN: toolchain!.bin,
            PATH: `${path.dirname(toolchain!.bin)}:${process.env["PATH"] ?? ""}`,
        });
        git(repo, "init", "-q");
        git(repo, "config", "user.email", "e2e@ai-dualstack.invalid");
        git(repo, "config", "user.name", "e2e");
        fs.writeFileSync(path.join(repo, "Pulumi.yaml"), "name: rollback-e2e\nruntime: nodejs\nmain: index.js\n");
        fs.writeFileSync(path.join(repo, ".gitignore"), "node_modules\n");
        fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(repo, "node_modules"));
        const pulumiCommand = await PulumiCommand.get({
            root: path.dirname(path.dirname(toolchain!.bin)),
            skipVersionCheck: true,
        });
        stack = await LocalWorkspace.createOrSelectStack(
            { stackName: "dev", workDir: repo },
            { workDir: repo, pulumiCommand },
        );
        await deploy("v1", "hello");
        await deploy("v2", "bonjour");
    });

    afterAll(() => {
        process.env = saved;
        fs.rmSync(root, { recursive: true, force: true });
    });

    test("--list, then --to 2 --yes: outputs and config are v1's again, and the history has three updates", async () => {
        const listed = await run(["dev", "--list", "--project-dir", repo]);
        expect(listed.code).toBe(0);
        const rows = listed.out.split("\n");
        expect(rows).toHaveLength(2);
        expect(rows[1]).toMatch(/^ {2}2 {2}\S+Z {2}[0-9a-f]{12} {2}succeeded {2}create 1/);

        const previewOnly = await run(["dev", "--to", "2", "--project-dir", repo]);
        expect(previewOnly.out).toContain("rollback: nothing applied; run again with --yes to apply");
        expect((await stack.outputs())["version"]?.value).toBe("v2");

        const back = await run(["dev", "--to", "2", "--yes", "--project-dir", repo]);
        expect(back.code).toBe(0);
        expect(back.out).toContain("rollback: dev is back at update 2 (succeeded)");
        const outputs = await stack.outputs();
        expect([outputs["version"]?.value, outputs["greeting"]?.value]).toEqual(["v1", "hello"]);
        const updates = (await stack.history()).filter((u) => u.kind === "update");
        expect(updates).toHaveLength(3);
        const newest = updates.sort((a, b) => new Date(b.startTime).getTime() - new Date(a.startTime).getTime())[0];
        expect(newest?.config["rollback-e2e:greeting"]?.value).toBe("hello");
        // The user's tree is untouched: still v2, which the tool says to revert.
        expect(fs.readFileSync(path.join(repo, "index.js"), "utf8")).toContain('"v2"');
        expect(back.out).toContain("your working tree still holds the later program and config");
    });

    test("refuses an unknown target and a dirty working tree, with the fix", async () => {
        const unknown = await run(["dev", "--to", "9", "--project-dir", repo]);
        expect(unknown.code).toBe(1);
        expect(unknown.out).toContain('rollback: no update matches "9"; see `npm run rollback -- <stack> --list`');
        fs.writeFileSync(path.join(repo, "index.js"), PROGRAM("edited"));
        const dirty = await run(["dev", "--to", "2", "--project-dir", repo]);
        expect(dirty.code).toBe(1);
        expect(dirty.out).toContain(`rollback: ${repo} has uncommitted changes; commit or stash them first`);
        git(repo, "checkout", "--", "index.js");
    });
});
