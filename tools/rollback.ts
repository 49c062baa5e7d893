// Rolls a stack back to an earlier update: it re-deploys that update's desired state, its config
// and the program of the commit it ran from. It restores no data (that is the backups' job), and it
// shows a refresh and a preview before it changes anything; only --yes applies.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, LocalWorkspaceOptions, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { HistoryEntry, TargetError, historyEntries, renderHistory, resolveTarget } from "./rollbackTarget";
import { parseCli, UsageError } from "./cli";

const USAGE = `Usage: npm run rollback -- <stack> --list [--project-dir DIR]
       npm run rollback -- <stack> --to <update> [--yes] [--project-dir DIR]

Re-deploys an earlier update of a stack: that update's config and the program of the commit it ran
from (checked out into a temporary worktree; your working tree is not touched). It runs a refresh
and a preview first and applies only with --yes; the throughput gate measures again as part of
that up. A rollback restores desired state, not data: a deleted volume stays deleted (see
docs/deploying.md, "Rollback").

  --list             the stack's updates, newest first: position, time, commit, result, changes
  --to <update>      a position from --list, a time (the newest update at or before it, such as
                     2026-11-27T10:00Z), or a commit (7 or more hex digits)
  --yes              apply after the preview (without it nothing changes)
  --project-dir DIR  the project's git checkout (default: this repository)

It refuses an unknown target, an update with no recorded commit or one not in this repository,
and a working tree with uncommitted changes. It uses the pulumi CLI on PATH (or $AIDS_PULUMI_BIN)
and whatever backend you are logged in to.

Exit status: 0 done (or previewed); 1 refused or failed; 2 bad usage.`;

export interface RollbackOptions {
    stack: string;
    list: boolean;
    to?: string;
    yes: boolean;
    projectDir: string;
}

export function parseArgs(argv: readonly string[], defaultDir: string): RollbackOptions | "help" {
    const opts: RollbackOptions = { stack: "", list: false, yes: false, projectDir: defaultDir };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "-h" || arg === "--help") return "help";
        if (arg === "--list") opts.list = true;
        else if (arg === "--yes") opts.yes = true;
        else if (arg === "--to" || arg === "--project-dir") {
            const value = argv[++i];
            if (!value) throw new UsageError(`${arg} takes a value`);
            if (arg === "--to") opts.to = value;
            else opts.projectDir = path.resolve(value);
        } else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
        else if (opts.stack) throw new UsageError(`one stack at a time, not "${opts.stack}" and "${arg}"`);
        else opts.stack = arg;
    }
    if (!opts.stack) throw new UsageError("name a stack: private or public");
    if (opts.list === (opts.to !== undefined)) throw new UsageError("give either --list or --to <update>");
    return opts;
}

const git = (dir: string, args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" });

/** Workspace options: the CLI of $AIDS_PULUMI_BIN when set, else the one on PATH. */
async function workspaceOptions(workDir: string): Promise<LocalWorkspaceOptions> {
    const bin = process.env["AIDS_PULUMI_BIN"];
    const pulumiCommand = bin
        ? await PulumiCommand.get({ root: path.dirname(path.dirname(bin)), skipVersionCheck: true })
        : undefined;
    return { workDir, ...(pulumiCommand ? { pulumiCommand } : {}) };
}

/** `pulumi config --json` form of an update's config: objects restored as objects. */
export function configJson(config: ConfigMap): string {
    const out: Record<string, { value: string; secret: boolean; objectValue?: unknown }> = {};
    for (const [key, { value, secret }] of Object.entries(config)) {
        let objectValue: unknown;
        try {
            const parsed: unknown = JSON.parse(value);
            if (parsed !== null && typeof parsed === "object") objectValue = parsed;
        } catch {
            // a plain string
        }
        out[key] = { value, secret: Boolean(secret), ...(objectValue !== undefined ? { objectValue } : {}) };
    }
    return JSON.stringify(out);
}

/** What a porcelain status code says happened to a path. */
function statusWord(code: string): string {
    if (code === "??") return "untracked";
    const c = code.replace(" ", "")[0];
    const words: Record<string, string> = {
        M: "modified",
        A: "added",
        D: "deleted",
        R: "renamed",
        C: "copied",
        T: "type changed",
        U: "unmerged",
    };
    return (c && words[c]) ?? code.trim();
}

/**
 * The paths that make `dir`'s tree dirty, each with what happened to it ("Pulumi.dev.yaml (modified)"). Files git
 * ignores are not among them (`git status` leaves them out): a build folder or a local note does not change what a
 * rollback deploys.
 */
export function dirtyPaths(dir: string): string[] {
    const out = git(dir, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
    const fields = out.split("\0");
    const paths: string[] = [];
    for (let i = 0; i < fields.length; i++) {
        const entry = fields[i] as string;
        if (entry.length < 4) continue;
        const code = entry.slice(0, 2);
        paths.push(`${entry.slice(3)} (${statusWord(code)})`);
        if (code.includes("R") || code.includes("C")) i++; // the source path follows a rename or copy
    }
    return paths;
}

/** At most `max` items, and how many more there are. */
function listed(items: readonly string[], max = 10): string {
    const more = items.length - max;
    return items.slice(0, max).join(", ") + (more > 0 ? `, and ${more} more` : "");
}

/** Refuses what a rollback cannot reproduce: no commit, a commit missing here, a dirty tree. */
export function checkRepository(dir: string, target: HistoryEntry): string {
    const dirty = dirtyPaths(dir);
    if (dirty.length > 0) {
        throw new TargetError(
            `${dir} has uncommitted changes; commit or stash them first, so the rollback is reproducible: ${listed(dirty)}`,
        );
    }
    const commit = target.commit;
    if (!commit) {
        throw new TargetError(
            `update ${target.position} recorded no commit (it ran outside a git checkout); re-deploy its config by hand`,
        );
    }
    try {
        git(dir, ["cat-file", "-e", `${commit}^{commit}`]);
    } catch {
        throw new TargetError(
            `update ${target.position} ran from commit ${commit.slice(0, 12)}, which this repository lacks; fetch it first`,
        );
    }
    return commit;
}

/** Checks the commit out into a temporary worktree with the project's node_modules beside it. */
function worktree(dir: string, commit: string): { root: string; remove: () => void } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-rollback-"));
    git(dir, ["worktree", "add", "--detach", "--quiet", root, commit]);
    const modules = path.join(dir, "node_modules");
    if (fs.existsSync(modules)) fs.symlinkSync(modules, path.join(root, "node_modules"));
    return { root, remove: () => git(dir, ["worktree", "remove", "--force", root]) };
}

/** Sets the old config, refreshes, previews, and (with --yes) applies, in the old commit's tree. */
async function redeploy(opts: RollbackOptions, target: HistoryEntry, commit: string): Promise<void> {
    const tree = worktree(opts.projectDir, commit);
    try {
        const stack: Stack = await LocalWorkspace.selectStack(
            { stackName: opts.stack, workDir: tree.root },
            await workspaceOptions(tree.root),
        );
        await stack.setAllConfigJson(configJson(target.summary.config));
        const log = (line: string) => process.stdout.write(line);
        console.log(
            `rollback: refreshing ${opts.stack}, then previewing update ${target.position} (commit ${commit.slice(0, 12)})`,
        );
        await stack.refresh({ onOutput: log });
        const preview = await stack.preview({ onOutput: log, diff: true });
        console.log(`rollback: the preview would ${JSON.stringify(preview.changeSummary)}`);
        if (!opts.yes) {
            console.log("rollback: nothing applied; run again with --yes to apply");
            return;
        }
        const result = await stack.up({ onOutput: log });
        console.log(`rollback: ${opts.stack} is back at update ${target.position} (${result.summary.result})`);
        console.log(
            `rollback: your working tree still holds the later program and config; revert them in git (git revert, or check out ${commit.slice(0, 12)}'s files) before the next \`pulumi up\`, or it re-deploys them`,
        );
    } finally {
        tree.remove();
    }
}

export async function main(argv: readonly string[], defaultDir = path.resolve(__dirname, "..")): Promise<number> {
    const opts = parseCli("rollback", USAGE, () => parseArgs(argv, defaultDir));
    if (typeof opts === "number") return opts;
    try {
        const stack = await LocalWorkspace.selectStack(
            { stackName: opts.stack, workDir: opts.projectDir },
            await workspaceOptions(opts.projectDir),
        );
        const entries = historyEntries(await stack.history(undefined, undefined, true));
        if (opts.list) {
            console.log(renderHistory(entries).join("\n"));
            return 0;
        }
        const target = resolveTarget(entries, opts.to as string);
        await redeploy(opts, target, checkRepository(opts.projectDir, target));
        return 0;
    } catch (err) {
        console.error(`rollback: ${failureLine(err)}`);
        return 1;
    }
}

/** One line for a failure; a missing Pulumi CLI (the Automation API's `spawn pulumi ENOENT`) says how to get one. */
export function failureLine(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    if (/\bENOENT\b/.test(message) && /\bpulumi\b/.test(message)) {
        const bin = process.env["AIDS_PULUMI_BIN"] || "pulumi";
        return `no Pulumi CLI (${bin} was not found); install it (https://www.pulumi.com/docs/install/) and put it on PATH, or set AIDS_PULUMI_BIN to its path`;
    }
    return message;
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => process.exit(code));
}
