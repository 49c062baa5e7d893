// The answering service (container-files/rag-answer.py) run with the real Python against a stand-in of
// the APIs it calls (Ollama's /api/embed and /api/chat, Qdrant's points/query), for what the real-model
// suite (ragAnswer.live.test.ts) does not reach quickly: refused requests, the score floor as sent to
// Qdrant, hybrid re-ranking by BM25, and /v1/retrieve.

import * as http from "http";
import { AddressInfo } from "net";
import { validator } from "../helpers/sandbox";
import { startAnswer, Started } from "../../testing/ragParts";

const python = validator("python3");

interface Hit {
    id: string;
    score: number;
    payload: { source: string; where: string; text: string; chunk: number };
}

/** Ollama and Qdrant as far as rag-answer uses them; Qdrant returns `hits` whatever the vector. */
function standIn(hits: Hit[]) {
    const queries: Record<string, unknown>[] = [];
    const chats: { messages: { role: string; content: string }[] }[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
            const input = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
            const reply = (code: number, text: string) => {
                res.writeHead(code, { "Content-Type": "application/json" });
                res.end(text);
            };
            if (req.url === "/api/embed") {
                reply(200, JSON.stringify({ embeddings: [[1, 0, 0]] }));
            } else if (req.url === "/api/chat") {
                chats.push(input as (typeof chats)[number]);
                const lines = ["The answer", " is here."].map((c) => JSON.stringify({ message: { content: c } }));
                reply(200, [...lines, JSON.stringify({ done: true })].join("\n"));
            } else if (req.url === "/collections/documents/points/query") {
                queries.push(input);
                const floor = input["score_threshold"] as number;
                const found = hits.filter((h) => h.score >= floor).slice(0, input["limit"] as number);
                reply(200, JSON.stringify({ result: { points: found } }));
            } else {
                reply(404, "{}");
            }
        });
    });
    return { server, queries, chats };
}

const hit = (source: string, score: number, text: string): Hit => ({
    id: source,
    score,
    payload: { source, where: "lines 1-3", text, chunk: 0 },
});

(python ? describe : describe.skip)("rag-answer against stand-ins", () => {
    const api = standIn([
        hit("a.md", 0.8, "General notes about the house."),
        hit("b.md", 0.7, "The boiler fault F28 needs the reset button held."),
        hit("c.md", 0.2, "Unrelated."),
    ]);
    let plain: Started;
    let hybrid: Started;
    const call = (s: Started, path: string, body?: unknown, key = "k") =>
        fetch(`${s.url}${path}`, {
            method: body === undefined ? "GET" : "POST",
            headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });

    beforeAll(async () => {
        await new Promise<void>((r) => api.server.listen(0, "127.0.0.1", r));
        const base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
        const env = { API_KEY: "k", OLLAMA_URL: base, QDRANT_URL: base, TOP_K: "2", SCORE_FLOOR: "0.5" };
        plain = await startAnswer(python as string, env);
        hybrid = await startAnswer(python as string, { ...env, HYBRID: "1" });
    });
    afterAll(async () => {
        await plain?.stop();
        await hybrid?.stop();
        api.server.close();
    });

    test("the floor goes to Qdrant; the answer ends with the sources that passed it", async () => {
        const res = await call(plain, "/v1/chat/completions", {
            model: "documents",
            messages: [{ role: "user", content: "What does fault F28 mean?" }],
        });
        const reply = (await res.json()) as { choices: { message: { content: string } }[] };
        expect(api.queries.at(-1)).toMatchObject({ score_threshold: 0.5, limit: 2, with_payload: true });
        expect(reply.choices[0]?.message.content).toBe(
            "The answer is here.\n\nSources:\n[1] a.md, lines 1-3 (score 0.80)\n[2] b.md, lines 1-3 (score 0.70)",
        );
        // The chat model gets the numbered passages in its system prompt and the question after it.
        const sent = api.chats.at(-1)?.messages ?? [];
        expect(sent[0]?.content).toContain("[2] (b.md, lines 1-3)\nThe boiler fault F28 needs the reset button held.");
        expect(sent.at(-1)).toEqual({ role: "user", content: "What does fault F28 mean?" });
    });

    test("hybrid: BM25 over the candidates moves the passage that shares the question's words up", async () => {
        const res = await call(hybrid, "/v1/retrieve", { query: "boiler fault F28 reset", top_k: 2 });
        expect(((await res.json()) as { hits: { source: string }[] }).hits.map((h) => h.source)).toEqual([
            "b.md",
            "a.md",
        ]);
        expect(api.queries.at(-1)).toMatchObject({ limit: 8 }); // top_k × 4 candidates
        const plainOrder = await call(plain, "/v1/retrieve", { query: "boiler fault F28 reset" });
        expect(((await plainOrder.json()) as { hits: { source: string }[] }).hits.map((h) => h.source)).toEqual([
            "a.md",
            "b.md",
        ]);
    });

    test("refused: a wrong key (401), another model, no user text, a bad top_k (400), an unknown path (404)", async () => {
        expect((await call(plain, "/v1/models", undefined, "nope")).status).toBe(401);
        const bad = async (path: string, body: unknown) => {
            const res = await call(plain, path, body);
            return { status: res.status, error: ((await res.json()) as { error: { message: string } }).error.message };
        };
        expect(
            await bad("/v1/chat/completions", { model: "gpt-4", messages: [{ role: "user", content: "x" }] }),
        ).toEqual({ status: 400, error: "model must be 'documents', got 'gpt-4'" });
        expect(
            await bad("/v1/chat/completions", { model: "documents", messages: [{ role: "system", content: "x" }] }),
        ).toEqual({ status: 400, error: "messages must hold a user message with text" });
        expect(await bad("/v1/retrieve", { query: "x", top_k: 0 })).toEqual({
            status: 400,
            error: "top_k must be a whole number from 1 to 50",
        });
        expect((await call(plain, "/v1/embeddings", {})).status).toBe(404);
        expect((await fetch(`${plain.url}/health`)).status).toBe(200);
    });
});
