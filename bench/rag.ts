// Retrieval quality and answer latency of the private RAG, on the CPU with the real parts the tests use
// (testing/ragParts.ts): the shipped documents (bench/rag/docs) and their labelled questions
// (bench/rag/questions.json) through rag-ingest.py and rag-answer.py, all-MiniLM-L6-v2 for embeddings and
// SmolLM2-135M-Instruct for answers in a real Ollama, Qdrant as qdrant-client's local mode. Three
// strategies side by side: the chunking rag-ingest shipped with, larger chunks (the best, now the default),
// and hybrid retrieval (BM25 + vectors).
// Prints recall@1, recall@5, MRR, and the median and p95 answer latency; asserts nothing.

import * as fs from "fs";
import * as path from "path";
import { findOllama, OllamaServer, startOllama } from "../testing/ollamaServer";
import {
    BENCH_DOCS,
    BENCH_QUESTIONS,
    CHAT_MODEL,
    createRealModels,
    EMBED_MODEL,
    findRagFixtures,
    RagFixtures,
    runIngest,
    startAnswer,
    startQdrantLocal,
    Started,
} from "../testing/ragParts";
import { runBench } from "./cli";

const USAGE = `Usage: npm run bench:rag [-- options]

Ingests bench/rag/docs and asks every question of bench/rag/questions.json, once per strategy:
the chunking rag-ingest shipped with (CHUNK_CHARS 1200, overlap 200), larger chunks (2400, overlap
300: the best, now the default), and hybrid retrieval (1200-char chunks; BM25 over the vector
candidates, fused by reciprocal rank). Needs
Ollama (.ci/ollama.sh) and the models (.ci/rag-fixtures.sh). Retrieval uses no score floor, so that
the ranks are measured; the no-answer questions' best scores show where a floor would cut.

  --answers N     questions answered in full per strategy, for the latency (default 6; 0: none)
  --max-tokens N  answer length (default 32)
  --help          this text`;

interface Strategy {
    name: string;
    chunkChars: number;
    overlap: number;
    hybrid: boolean;
}

export const STRATEGIES: readonly Strategy[] = [
    // The chunking rag-ingest shipped with before this bench; the larger chunks won and are its default now.
    { name: "chunks of 1200 chars, overlap 200 (the former default)", chunkChars: 1200, overlap: 200, hybrid: false },
    { name: "larger chunks: 2400 chars, overlap 300 (the default)", chunkChars: 2400, overlap: 300, hybrid: false },
    { name: "hybrid BM25 + vectors, chunks of 1200, overlap 200", chunkChars: 1200, overlap: 200, hybrid: true },
];

interface QuestionSet {
    questions: { question: string; source: string }[];
    noAnswer: string[];
}

interface Hit {
    source: string;
    where: string;
    score: number;
}

/** Recall@1, recall@5 and MRR (over the top 5) of ranked sources against each question's label. */
export function retrievalFigures(ranked: string[][], labels: string[]): { r1: number; r5: number; mrr: number } {
    let r1 = 0;
    let r5 = 0;
    let mrr = 0;
    ranked.forEach((sources, i) => {
        const rank = sources.slice(0, 5).indexOf(labels[i] ?? "") + 1;
        if (rank === 1) r1++;
        if (rank >= 1) {
            r5++;
            mrr += 1 / rank;
        }
    });
    const n = labels.length || 1;
    return { r1: r1 / n, r5: r5 / n, mrr: mrr / n };
}

/** The q-quantile of a sample by the nearest-rank method. */
export function quantile(values: number[], q: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function parseArgs(argv: string[]): { answers: number; maxTokens: number } | "help" {
    const o = { answers: 6, maxTokens: 32 };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (flag === "--help" || flag === "-h") return "help";
        const value = Number(argv[i + 1]);
        if ((flag === "--answers" || flag === "--max-tokens") && Number.isInteger(value) && value >= 0) {
            if (flag === "--answers") o.answers = value;
            else o.maxTokens = Math.max(1, value);
            i++;
            continue;
        }
        throw new Error(`unknown or bad option ${flag ?? ""}\n\n${USAGE}`);
    }
    return o;
}

const KEY = "bench-key";

async function post<T>(url: string, body: unknown): Promise<T> {
    let res: Response;
    try {
        res = await fetch(url, {
            method: "POST",
            headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
            body: JSON.stringify(body),
        });
    } catch (err) {
        throw new Error(`${url}: ${String(err)} (${String((err as { cause?: unknown }).cause)})`);
    }
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return (await res.json()) as T;
}

/** Seconds until a streamed answer's last event: streamed, so that a slow CPU never meets fetch's header timeout. */
async function answerSeconds(url: string, question: string, maxTokens: number): Promise<number> {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
        body: JSON.stringify({
            model: "documents",
            messages: [{ role: "user", content: question }],
            max_tokens: maxTokens,
            temperature: 0,
            stream: true,
        }),
    });
    const text = await res.text();
    if (!res.ok || !text.includes("data: [DONE]")) throw new Error(`answer: HTTP ${res.status}: ${text.slice(-300)}`);
    return (performance.now() - t0) / 1000;
}

/** Retrieval figures over every question, the no-answer questions' best scores, and answer latencies. */
async function measure(url: string, set: QuestionSet, opts: { answers: number; maxTokens: number }) {
    const ranked: string[][] = [];
    for (const q of set.questions) {
        const { hits } = await post<{ hits: Hit[] }>(`${url}/v1/retrieve`, { query: q.question, top_k: 5 });
        // A source counts once, at its best rank (two chunks of one file are one source).
        ranked.push([...new Set(hits.map((h) => h.source))]);
    }
    const fig = retrievalFigures(
        ranked,
        set.questions.map((q) => q.source),
    );
    const noAnswerTop: number[] = [];
    for (const q of set.noAnswer) {
        const { hits } = await post<{ hits: Hit[] }>(`${url}/v1/retrieve`, { query: q, top_k: 5 });
        noAnswerTop.push(Math.max(0, ...hits.map((h) => h.score)));
    }
    const times: number[] = [];
    const step = Math.max(1, Math.floor(set.questions.length / Math.max(1, opts.answers)));
    for (let i = 0; i < opts.answers && i * step < set.questions.length; i++) {
        const q = set.questions[i * step];
        times.push(await answerSeconds(url, q?.question ?? "", opts.maxTokens));
    }
    const lat =
        times.length > 0
            ? `${quantile(times, 0.5).toFixed(1)} s | ${quantile(times, 0.95).toFixed(1)} s (n=${times.length})`
            : "- | -";
    return { fig, lat, noAnswerTop };
}

/** One strategy's table row: its own Qdrant, ingest and answering service over the shared Ollama. */
async function runStrategy(
    ollama: OllamaServer,
    fx: RagFixtures,
    s: Strategy,
    set: QuestionSet,
    opts: { answers: number; maxTokens: number },
): Promise<string> {
    let qdrant: Started | undefined;
    let answer: Started | undefined;
    try {
        qdrant = await startQdrantLocal(fx, KEY);
        const ingest = await runIngest(fx, {
            DOCS_DIR: BENCH_DOCS,
            OLLAMA_URL: ollama.endpoint,
            EMBED_MODEL,
            QDRANT_URL: qdrant.url,
            QDRANT_API_KEY: KEY,
            CHUNK_CHARS: String(s.chunkChars),
            CHUNK_OVERLAP: String(s.overlap),
            ALIVE_FILE: path.join(ollama.models, "..", "alive"),
        });
        if (ingest.code !== 0) throw new Error(`ingest failed:\n${ingest.out}`);
        const chunks = /, (\d+) chunks\n/.exec(ingest.out)?.[1] ?? "?"; // the pass's summary line
        answer = await startAnswer(fx.python, {
            API_KEY: KEY,
            OLLAMA_URL: ollama.endpoint,
            EMBED_MODEL,
            CHAT_MODEL,
            QDRANT_URL: qdrant.url,
            QDRANT_API_KEY: KEY,
            TOP_K: "4", // the shipped default: what an answer's prompt carries
            SCORE_FLOOR: "0",
            HYBRID: s.hybrid ? "1" : "0",
        });
        const { fig, lat, noAnswerTop } = await measure(answer.url, set, opts);
        const row = `| ${s.name} | ${chunks} | ${fig.r1.toFixed(2)} | ${fig.r5.toFixed(2)} | ${fig.mrr.toFixed(3)} | ${lat} | ${Math.max(...noAnswerTop).toFixed(2)} |`;
        return row;
    } finally {
        await answer?.stop();
        await qdrant?.stop();
    }
}

async function main(argv: string[]): Promise<number> {
    const opts = parseArgs(argv);
    if (opts === "help") {
        console.log(USAGE);
        return 0;
    }
    const bin = findOllama();
    const fx = findRagFixtures();
    if (!bin || !fx)
        throw new Error("needs Ollama (bash .ci/ollama.sh) and the RAG fixtures (bash .ci/rag-fixtures.sh)");
    const set = JSON.parse(fs.readFileSync(BENCH_QUESTIONS, "utf8")) as QuestionSet;
    const docs = new Set(set.questions.map((q) => q.source));
    console.log(
        `${set.questions.length} questions over ${docs.size} documents (${path.relative(process.cwd(), BENCH_DOCS)}), ` +
            `${set.noAnswer.length} without an answer; ${EMBED_MODEL} and ${CHAT_MODEL} on the CPU`,
    );
    const rows: string[] = [];
    let ollama: OllamaServer | undefined;
    try {
        ollama = await startOllama(bin);
        await createRealModels(ollama, fx);
        for (const s of STRATEGIES) {
            const row = await runStrategy(ollama, fx, s, set, opts);
            rows.push(row);
            console.log(row);
        }
    } finally {
        await ollama?.stop();
    }
    console.log(
        [
            "",
            `| strategy | chunks | recall@1 | recall@5 | MRR | answer latency, median | p95 | best no-answer score |`,
            `| --- | --- | --- | --- | --- | --- | --- | --- |`,
            ...rows,
        ].join("\n"),
    );
    return 0;
}

if (require.main === module) runBench(main, 2);
