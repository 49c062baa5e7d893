// A unified diff of two texts by lines (longest common subsequence), for showing what init would
// change in Pulumi.yaml before it writes. Pulumi.yaml is a few hundred lines: the quadratic table is fine.

/** The unified diff of `before` → `after` with `context` lines around each change; "" when equal. */
export function unifiedDiff(before: string, after: string, file: string, context = 3): string {
    const a = before.split("\n");
    const b = after.split("\n");
    // lcs[i][j]: the length of the longest common subsequence of a[i..] and b[j..].
    const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--) {
        for (let j = b.length - 1; j >= 0; j--) {
            lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
        }
    }
    type Op = { kind: " " | "-" | "+"; text: string; ai: number; bi: number };
    const ops: Op[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
        if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: " ", text: a[i++]!, ai: i, bi: ++j });
        else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
            ops.push({ kind: "-", text: a[i++]!, ai: i, bi: j });
        else ops.push({ kind: "+", text: b[j++]!, ai: i, bi: j });
    }
    const changed = ops.map((o, k) => (o.kind !== " " ? k : -1)).filter((k) => k >= 0);
    if (changed.length === 0) return "";
    const out = [`--- ${file}`, `+++ ${file} (proposed)`];
    let k = 0;
    while (k < changed.length) {
        const start = Math.max(0, changed[k]! - context);
        let end = Math.min(ops.length - 1, changed[k]! + context);
        while (k + 1 < changed.length && changed[k + 1]! - context <= end + 1) {
            k++;
            end = Math.min(ops.length - 1, changed[k]! + context);
        }
        const hunk = ops.slice(start, end + 1);
        const aStart = hunk[0]!.kind === "+" ? hunk[0]!.ai + 1 : hunk[0]!.ai;
        const bStart = hunk[0]!.kind === "-" ? hunk[0]!.bi + 1 : hunk[0]!.bi;
        const aLen = hunk.filter((o) => o.kind !== "+").length;
        const bLen = hunk.filter((o) => o.kind !== "-").length;
        out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
        for (const o of hunk) out.push(`${o.kind}${o.text}`);
        k++;
    }
    return `${out.join("\n")}\n`;
}
