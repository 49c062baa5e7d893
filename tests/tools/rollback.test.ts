// The rollback CLI's plain parts: its arguments, the history table, choosing the target update,
// and the config it restores. The round trip under the real engine is in tests/e2e.

import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkRepository, configJson, dirtyPaths, main, parseArgs } from "../../tools/rollback";
import { historyEntries, renderHistory, resolveTarget } from "../../tools/rollbackTarget";

function update(minute: number, result: UpdateSummary["result"], head?: string): UpdateSummary {
    return {
        kind: "update",
        startTime: new Date(`2026-11-27T10:${String(minute).padStart(2, "0")}:00Z`),
        endTime: new Date(`2026-11-27T10:${String(minute).padStart(2, "0")}:30Z`),
        message: "",
        environment: head ? { "git.head": head, "git.dirty": "false" } : {},
        config: { "ai-dualstack:environment": { value: "private", secret: false } },
        result,
        version: 0,
        resourceChanges: { create: minute, same: 3 },
    };
}

const history = [
    update(1, "succeeded", "1111111aaaaaaa"),
    update(5, "failed", "2222222bbbbbbb"),
    update(9, "succeeded", "3333333ccccccc"),
    { ...update(7, "succeeded"), kind: "refresh" as const },
];

test("the history lists updates newest first; refreshes and previews are not targets", () => {
    const entries = historyEntries(history);
    expect(entries.map((e) => [e.position, e.commit])).toEqual([
        [1, "3333333ccccccc"],
        [2, "2222222bbbbbbb"],
        [3, "1111111aaaaaaa"],
    ]);
    expect(renderHistory(entries)[0]).toBe("  1  2026-11-27T10:09:00.000Z  3333333ccccc  succeeded  create 9");
});

test("--to takes a position, a time or a commit; a failed or unknown update is refused with the fix", () => {
    const entries = historyEntries(history);
    expect(resolveTarget(entries, "3").commit).toBe("1111111aaaaaaa");
    expect(resolveTarget(entries, "2026-11-27T10:08Z").commit).toBe("1111111aaaaaaa");
    expect(resolveTarget(entries, "3333333c").position).toBe(1);
    expect(() => resolveTarget(entries, "2")).toThrow("update 2 failed; roll back to one that succeeded");
    expect(() => resolveTarget(entries, "9")).toThrow(
        'no update matches "9"; see `npm run rollback -- <stack> --list`',
    );
    expect(() => resolveTarget(entries, "yesterday")).toThrow("--to takes a position from --list");
});

test("the restored config keeps objects as objects and secrets as secrets", () => {
    const json = JSON.parse(
        configJson({
            "ai-dualstack:nodes": { value: '{"pve1":{"address":"192.168.1.10"}}', secret: false },
            "ai-dualstack:sshPrivateKey": { value: "-----BEGIN", secret: true },
        }),
    ) as Record<string, { objectValue?: unknown; secret: boolean }>;
    expect(json["ai-dualstack:nodes"]?.objectValue).toEqual({ pve1: { address: "192.168.1.10" } });
    expect(json["ai-dualstack:sshPrivateKey"]).toEqual({ value: "-----BEGIN", secret: true });
});

test("usage: a stack and exactly one of --list and --to; --help exits 0", async () => {
    expect(parseArgs(["private", "--to", "2", "--yes"], "/p")).toEqual({
        stack: "private",
        list: false,
        to: "2",
        yes: true,
        projectDir: "/p",
    });
    expect(() => parseArgs(["private"], "/p")).toThrow("give either --list or --to <update>");
    expect(() => parseArgs(["--list"], "/p")).toThrow("name a stack");
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    const error = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
        expect(await main(["--help"])).toBe(0);
        expect(log.mock.calls[0]?.[0]).toContain("Usage: npm run rollback -- <stack> --list");
        expect(await main(["private", "--list", "--to", "1"])).toBe(2);
    } finally {
        log.mockRestore();
        error.mockRestore();
    }
});

test("without the Pulumi CLI, rollback prints one line that says how to get it", async () => {
    const saved = { PATH: process.env["PATH"], AIDS_PULUMI_BIN: process.env["AIDS_PULUMI_BIN"] };
    process.env["PATH"] = "/nonexistent";
    delete process.env["AIDS_PULUMI_BIN"];
    const error = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
        expect(await main(["private", "--list"])).toBe(1);
        expect(error.mock.calls).toEqual([
            [
                "rollback: no Pulumi CLI (pulumi was not found); install it (https://www.pulumi.com/docs/install/) and put it on PATH, or set AIDS_PULUMI_BIN to its path",
            ],
        ]);
    } finally {
        error.mockRestore();
        process.env["PATH"] = saved.PATH;
        if (saved.AIDS_PULUMI_BIN !== undefined) process.env["AIDS_PULUMI_BIN"] = saved.AIDS_PULUMI_BIN;
    }
});

describe("the dirty-tree check, on a real git repository", () => {
    let repo: string;
    const sh = (...args: string[]) =>
        execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args], { encoding: "utf8" });
    // Each file's own name as its content: git would take a deleted and an added file of equal content for a rename.
    const write = (file: string, text = `${file}\n`) => {
        fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
        fs.writeFileSync(path.join(repo, file), text);
    };

    beforeEach(() => {
        repo = fs.mkdtempSync(path.join(os.tmpdir(), "aids-rollback-git-"));
        sh("init", "-q");
        write(".gitignore", "build/\n*.log\n");
        for (const f of ["Pulumi.dev.yaml", "index.ts", "old.ts", "gone.ts"]) write(f);
        sh("add", "-A");
        sh("commit", "-qm", "first");
    });

    afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

    const target = () => ({ ...historyEntries(history)[0]!, commit: sh("rev-parse", "HEAD").trim() });

    test("a clean tree, and files git ignores, pass", () => {
        write("build/out.js");
        write("deploy.log");
        expect(dirtyPaths(repo)).toEqual([]);
        expect(checkRepository(repo, target())).toBe(target().commit);
    });

    test("each dirty path is named, with what happened to it", () => {
        write("Pulumi.dev.yaml", "changed\n");
        write("notes/todo.txt");
        write("staged.ts");
        sh("add", "staged.ts");
        sh("rm", "-q", "gone.ts");
        sh("mv", "old.ts", "new.ts");
        write("build/out.js");
        expect(dirtyPaths(repo).sort()).toEqual([
            "Pulumi.dev.yaml (modified)",
            "gone.ts (deleted)",
            "new.ts (renamed)",
            "notes/todo.txt (untracked)",
            "staged.ts (added)",
        ]);
        expect(() => checkRepository(repo, target())).toThrow(
            `${repo} has uncommitted changes; commit or stash them first, so the rollback is reproducible: ` +
                dirtyPaths(repo).join(", "),
        );
    });

    test("a long list is cut after ten paths, saying how many more", () => {
        for (let i = 0; i < 12; i++) write(`extra/f${String(i).padStart(2, "0")}.ts`);
        expect(() => checkRepository(repo, target())).toThrow(/: extra\/f00\.ts \(untracked\), .*, and 2 more$/);
    });
});
