// The RAG bench's arithmetic (bench/rag.ts): recall@1, recall@5 and MRR over ranked sources, and the
// nearest-rank quantile of its latencies; and its question set's shape (every label a shipped file).

import * as fs from "fs";
import * as path from "path";
import { quantile, retrievalFigures, STRATEGIES } from "../../bench/rag";
import { BENCH_DOCS, BENCH_QUESTIONS } from "../../testing/ragParts";

test("recall and MRR count the label's rank among the first five sources", () => {
    const ranked = [
        ["a", "b"], // rank 1
        ["b", "a"], // rank 2
        ["b", "c", "d", "e", "f", "a"], // rank 6: past the top 5
        [], // nothing retrieved
    ];
    expect(retrievalFigures(ranked, ["a", "a", "a", "a"])).toEqual({ r1: 0.25, r5: 0.5, mrr: (1 + 0.5) / 4 });
});

test("quantiles by nearest rank", () => {
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([], 0.5)).toBeNaN();
});

test("the question set: 30 or more questions over 10 or more shipped documents, each label a file there", () => {
    const set = JSON.parse(fs.readFileSync(BENCH_QUESTIONS, "utf8")) as {
        questions: { question: string; source: string }[];
        noAnswer: string[];
    };
    expect(set.questions.length).toBeGreaterThanOrEqual(30);
    const labels = new Set(set.questions.map((q) => q.source));
    expect(labels.size).toBeGreaterThanOrEqual(10);
    for (const l of labels) expect(fs.existsSync(path.join(BENCH_DOCS, l))).toBe(true);
    expect(new Set(set.questions.map((q) => q.question)).size).toBe(set.questions.length);
    expect(set.noAnswer.length).toBeGreaterThan(0);
    expect(STRATEGIES.map((s) => s.hybrid)).toEqual([false, false, true]);
});
