// The RAG ingestion (container-files/rag-ingest.py) run with the real Python against a stand-in of the
// two HTTP APIs it uses (Ollama's /api/embed and /api/pull, Qdrant's collections and points):
// chunks go in once, a changed file replaces its chunks, a deleted file's chunks go away.

import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { validator } from "../helpers/sandbox";

interface Point {
    id: string;
    vector: number[];
    payload: { source: string; sha256: string; chunk: number; where: string; text: string };
}

/** Just enough of Ollama and Qdrant, recording every call. */
function standIn(apiKey: string) {
    const points = new Map<string, Point>();
    let collection: { size: number } | undefined;
    let pulled = false;
    const calls: string[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
            const url = req.url ?? "";
            calls.push(`${req.method} ${url}`);
            const json = (code: number, value: unknown) => {
                res.writeHead(code, { "Content-Type": "application/json" });
                res.end(JSON.stringify(value));
            };
            const input = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
            if (url === "/api/pull") {
                pulled = true;
                return json(200, { status: "success" });
            }
            if (url === "/api/embed") {
                if (!pulled)
                    return json(404, { error: `model "${String(input["model"])}" not found, try pulling it first` });
                const texts = input["input"] as string[];
                return json(200, { embeddings: texts.map((t) => [t.length, 1, 0.5]) });
            }
            if (url.startsWith("/collections") && req.headers["api-key"] !== apiKey) return json(401, {});
            if (url === "/collections/documents") {
                if (req.method === "PUT") {
                    collection = { size: ((input["vectors"] as { size: number }) ?? { size: 0 }).size };
                    return json(200, { result: true });
                }
                return collection ? json(200, { result: collection }) : json(404, { status: { error: "Not found" } });
            }
            if (url === "/collections/documents/points/scroll") {
                return json(200, { result: { points: [...points.values()], next_page_offset: null } });
            }
            if (url === "/collections/documents/points/count") {
                return json(200, { result: { count: points.size } });
            }
            if (url === "/collections/documents/points?wait=true" && req.method === "PUT") {
                for (const p of input["points"] as Point[]) points.set(p.id, p);
                return json(200, { result: { status: "completed" } });
            }
            if (url === "/collections/documents/points/delete?wait=true") {
                const filter = input["filter"] as { must: { key: string; match: { value: string } }[] };
                const source = filter.must[0]?.match.value;
                for (const [id, p] of points) if (p.payload.source === source) points.delete(id);
                return json(200, { result: { status: "completed" } });
            }
            return json(404, { error: `stand-in has no ${req.method} ${url}` });
        });
    });
    return { server, points, calls, collection: () => collection };
}

const python = validator("python3");
const promtool = validator("promtool");
const SCRIPT = path.join(__dirname, "..", "..", "container-files", "rag-ingest.py");

function runOnce(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
        const child = spawn(python as string, [SCRIPT, "--once"], { env: { ...process.env, ...env } });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c.toString()));
        child.stderr.on("data", (c: Buffer) => (out += c.toString()));
        child.on("close", (code) => resolve({ code, out }));
    });
}

(python ? test : test.skip)(
    "a document folder goes into Qdrant once, and follows changes and deletions",
    async () => {
        const api = standIn("test-key");
        await new Promise<void>((r) => api.server.listen(0, "127.0.0.1", r));
        const base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
        const docs = fs.mkdtempSync(path.join(os.tmpdir(), "aids-docs-"));
        fs.mkdirSync(path.join(docs, "notes"));
        const long = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} about GPUs and hugepages.`).join("\n\n");
        fs.writeFileSync(path.join(docs, "notes", "long.md"), long);
        fs.writeFileSync(path.join(docs, "short.txt"), "Qwen runs on the RTX 5090.");
        fs.writeFileSync(path.join(docs, "image.png"), "not text");
        fs.writeFileSync(path.join(docs, "broken.pdf"), "%PDF-1.4 this is no PDF");
        const env = {
            DOCS_DIR: docs,
            OLLAMA_URL: base,
            QDRANT_URL: base,
            QDRANT_API_KEY: "test-key",
            CHUNK_CHARS: "300",
            CHUNK_OVERLAP: "50",
            ALIVE_FILE: path.join(docs, "..", `alive-${path.basename(docs)}`),
            METRICS_FILE: path.join(docs, "..", `metrics-${path.basename(docs)}.prom`),
        };
        const metric = (name: string) =>
            Number(new RegExp(`^${name} (\\S+)$`, "m").exec(fs.readFileSync(env.METRICS_FILE, "utf8"))?.[1]);
        try {
            const first = await runOnce(env);
            expect(first.out).toContain("pulling nomic-embed-text");
            expect(first.code).toBe(0);
            // The PDF that fails to parse is logged and counted; the pass goes on.
            expect(first.out).toMatch(/broken\.pdf: skipped, /);
            const sources = () => [...api.points.values()].map((p) => p.payload.source);
            expect(new Set(sources())).toEqual(new Set(["notes/long.md", "short.txt"]));
            expect(sources().filter((s) => s === "notes/long.md").length).toBeGreaterThan(3);
            expect(sources().filter((s) => s === "short.txt")).toHaveLength(1);
            expect(api.collection()).toEqual({ size: 3 });
            for (const p of api.points.values()) {
                expect(p.payload.text.length).toBeLessThanOrEqual(300);
                expect(p.vector[0]).toBe(p.payload.text.length);
            }
            const count = api.points.size;
            expect(metric("aidualstack_rag_ingest_files")).toBe(3);
            expect(metric("aidualstack_rag_ingest_failures")).toBe(1);
            expect(metric("aidualstack_rag_ingest_chunks")).toBe(count);
            expect(
                Math.abs(metric("aidualstack_rag_ingest_last_success_timestamp_seconds") - Date.now() / 1000),
            ).toBeLessThan(60);
            // The textfile node-exporter reads is valid exposition format.
            if (promtool) execFileSync(promtool, ["check", "metrics"], { input: fs.readFileSync(env.METRICS_FILE) });
            // Where in the file each chunk lies: its lines.
            const short = [...api.points.values()].find((p) => p.payload.source === "short.txt");
            expect(short?.payload.where).toBe("line 1");
            const firstLong = [...api.points.values()].find(
                (p) => p.payload.source === "notes/long.md" && p.payload.chunk === 0,
            );
            expect(firstLong?.payload.where).toMatch(/^lines 1-\d+$/);

            // Nothing changed: nothing is embedded again.
            api.calls.length = 0;
            expect((await runOnce(env)).code).toBe(0);
            expect(api.calls.filter((c) => c.includes("/api/embed"))).toEqual([]);
            expect(api.points.size).toBe(count);

            // A changed file replaces its chunks; a deleted one loses them.
            fs.writeFileSync(path.join(docs, "short.txt"), "Mistral runs on the RTX 3060.");
            fs.rmSync(path.join(docs, "notes", "long.md"));
            expect((await runOnce(env)).code).toBe(0);
            expect([...api.points.values()].map((p) => [p.payload.source, p.payload.text])).toEqual([
                ["short.txt", "Mistral runs on the RTX 3060."],
            ]);
            expect(fs.existsSync(env.ALIVE_FILE)).toBe(true);
        } finally {
            api.server.close();
        }
    },
    60_000,
);
