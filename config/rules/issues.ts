// What a rule reports: a config path in `pulumi config --path` form and a message with the fix.

export interface ConfigIssue {
    /** Path under the `ai-dualstack` namespace, such as `vms.private-ai.gpu`. */
    path: string;
    message: string;
}

export type Add = (path: string, message: string) => void;

/** Runs rules that report through `add`, and returns what they found. */
export function collect(run: (add: Add) => void): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    run((path, message) => issues.push({ path, message }));
    return issues;
}

/** `"a", "b"` for messages, or "none". */
export function list(items: Iterable<string>): string {
    const all = [...items];
    return all.length === 0 ? "none" : all.map((i) => `"${i}"`).join(", ");
}
