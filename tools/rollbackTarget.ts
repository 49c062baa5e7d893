// Which earlier update a rollback returns to, from the stack's history: by its position in the
// list, by a time, or by the commit it was deployed from. Plain functions over the history.

import type { UpdateSummary } from "@pulumi/pulumi/automation";

/** One line of `rollback --list`: position 1 is the newest update. */
export interface HistoryEntry {
    position: number;
    summary: UpdateSummary;
    /** The commit the update ran from, when the work dir was a git repository. */
    commit?: string;
    /** Whether the tree had uncommitted changes then: the commit alone would not reproduce it. */
    dirty: boolean;
}

/** Updates (not previews or refreshes) newest first, numbered from 1. */
export function historyEntries(history: readonly UpdateSummary[]): HistoryEntry[] {
    return [...history]
        .filter((u) => u.kind === "update")
        .sort((a, b) => new Date(b.startTime).getTime() - new Date(a.startTime).getTime())
        .map((summary, i) => ({
            position: i + 1,
            summary,
            ...(summary.environment["git.head"] ? { commit: summary.environment["git.head"] } : {}),
            dirty: summary.environment["git.dirty"] === "true",
        }));
}

function changes(u: UpdateSummary): string {
    const counts = Object.entries(u.resourceChanges ?? {})
        .filter(([op, n]) => op !== "same" && n > 0)
        .map(([op, n]) => `${op} ${n}`);
    return counts.length > 0 ? counts.join(", ") : "no changes";
}

/** The `--list` table. */
export function renderHistory(entries: readonly HistoryEntry[]): string[] {
    if (entries.length === 0) return ["no update in this stack's history yet"];
    return entries.map((e) =>
        [
            String(e.position).padStart(3),
            new Date(e.summary.startTime).toISOString(),
            (e.commit?.slice(0, 12) ?? "no commit").padEnd(12) + (e.dirty ? " (dirty)" : ""),
            e.summary.result,
            changes(e.summary),
        ].join("  "),
    );
}

export class TargetError extends Error {}

/**
 * `--to`: a position in the list ("3"), a time (the newest succeeded update that started by then),
 * or a commit (a prefix of at least 7 hex digits). Only a succeeded update is a target.
 */
export function resolveTarget(entries: readonly HistoryEntry[], to: string): HistoryEntry {
    let found: HistoryEntry | undefined;
    if (/^\d{1,6}$/.test(to)) {
        found = entries.find((e) => e.position === Number(to));
    } else if (/^[0-9a-f]{7,40}$/i.test(to)) {
        found = entries.find((e) => e.commit?.toLowerCase().startsWith(to.toLowerCase()));
    } else if (!Number.isNaN(Date.parse(to))) {
        const at = Date.parse(to);
        // The state the stack was in at that time: the newest update before it that succeeded.
        found = entries.find((e) => new Date(e.summary.startTime).getTime() <= at && e.summary.result === "succeeded");
    } else {
        throw new TargetError(
            `--to takes a position from --list, a time such as 2026-11-27T10:00Z, or a commit; got "${to}"`,
        );
    }
    if (!found) throw new TargetError(`no update matches "${to}"; see \`npm run rollback -- <stack> --list\``);
    if (found.summary.result !== "succeeded") {
        throw new TargetError(`update ${found.position} ${found.summary.result}; roll back to one that succeeded`);
    }
    return found;
}
