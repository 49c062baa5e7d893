// The real Open WebUI, the release the private stack pins (its image tag), from PyPI in the virtualenv
// .ci/webui.sh caches, started on 127.0.0.1 with the environment the program renders for the private stack's
// `open-webui` container (its secrets the offline plan's placeholders). Around it, on loopback, the parts that
// environment names: a real PostgreSQL (DATABASE_URL), a real Redis (REDIS_URL, WEBSOCKET_REDIS_URL), a real
// Ollama (OLLAMA_BASE_URL), the real answering service container-files/rag-answer.py with its own rendered
// environment (OPENAI_API_BASE_URLS), and qdrant-client's LOCAL MODE behind Qdrant's REST API
// (testing/qdrant-local.py) for QDRANT_URI: no registry ships the Qdrant server. Only the addresses, the data
// folder and the offline switches change (loopbackEnv below, each with its reason).

import * as docker from "@pulumi/docker";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findOllama, OllamaServer, startOllama } from "../../testing/ollamaServer";
import { startAnswer, startQdrantLocal, Started } from "../../testing/ragParts";
import { findWebui, installedVersion, Process, startRedis, startWebui } from "../../testing/webui";
import { RecordedResource } from "../../testing/mockRuntime";
import { committedPlan } from "../helpers/planCache";
import { ofType } from "../helpers/pulumi";
import { findPgBin, PgCluster, startCluster } from "../helpers/postgres";

const venv = findWebui();
const ollamaBin = findOllama();
const pgBin = findPgBin();
const redis = spawnSync("sh", ["-c", "command -v redis-server"]).status === 0;
const missing = [
    venv
        ? ""
        : "the Open WebUI virtualenv (warm it: `bash .ci/webui.sh`, 6 to 9 minutes and 7.3 GB; or set AIDS_WEBUI_VENV)",
    ollamaBin ? "" : "ollama (`bash .ci/ollama.sh`)",
    pgBin ? "" : "PostgreSQL (apt-get install postgresql)",
    redis ? "" : "redis-server (apt-get install redis-server)",
].filter(Boolean);
if (missing.length > 0 && process.env["CI"] === "true") {
    throw new Error(`the real Open WebUI test cannot run under CI, missing: ${missing.join("; ")}`);
}
if (missing.length > 0) console.warn(`the real Open WebUI test is skipped, missing: ${missing.join("; ")}`);
const describeReal = missing.length === 0 ? describe : describe.skip;
jest.setTimeout(600_000);

/** Open WebUI's own start: imports and migrations on two cores, measured in docs/testing.md. */
const STARTUP_MS = 300_000;

type Env = Record<string, string>;
const envOf = (c: RecordedResource): Env =>
    Object.fromEntries(
        ((c.inputs["envs"] ?? []) as string[]).map((line) => [
            line.slice(0, line.indexOf("=")),
            line.slice(line.indexOf("=") + 1),
        ]),
    );

/** A URL with its host and port pointed at a loopback server, the rest (user, password, path) as rendered. */
function rehost(rendered: string | undefined, to: string): string {
    if (!rendered) throw new Error(`nothing rendered to point at ${to}`);
    const url = new URL(rendered);
    url.host = new URL(to).host;
    return url.toString();
}

interface Loopback {
    ollama: string;
    qdrant: string;
    answer: string;
    postgresPort: number;
    redis: string;
    dataDir: string;
}

/** What must change to run the rendered environment on one machine's loopback, each with its reason. */
function loopbackEnv(rendered: Env, at: Loopback): { env: Env; changed: string[] } {
    const overrides: Env = {
        // The containers' names (ollama, qdrant, rag-answer) and the database and cache containers' addresses
        // (10.10.10.20/21) exist only in the VM's network: the same servers, at their loopback ports.
        OLLAMA_BASE_URL: at.ollama,
        QDRANT_URI: at.qdrant,
        OPENAI_API_BASE_URLS: `${at.answer}/v1`,
        DATABASE_URL: rehost(rendered["DATABASE_URL"], `http://127.0.0.1:${at.postgresPort}`),
        REDIS_URL: rehost(rendered["REDIS_URL"], at.redis),
        WEBSOCKET_REDIS_URL: rehost(rendered["WEBSOCKET_REDIS_URL"], at.redis),
        // The container keeps its data in the volume at /app/backend/data (the image's DATA_DIR); the pip
        // package's default is inside the virtualenv, which the test must not write.
        DATA_DIR: at.dataDir,
        // Not rendered (the image's user has its own): the process's caches (Hugging Face's, ~/.cache) go there too.
        HOME: at.dataDir,
        // The image ships its embedding model; the pip package would fetch it from Hugging Face at startup (and
        // check for a newer release): OFFLINE_MODE sets HF_HUB_OFFLINE=1 and ends both (open_webui/env.py,
        // "OFFLINE_MODE"; retrieval/utils.py, get_model_path), so the start neither waits on nor needs the network.
        OFFLINE_MODE: "True",
        // SEARXNG_QUERY_URL stays as rendered: only a web search reaches it, and none runs here.
    };
    return { env: { ...rendered, ...overrides }, changed: Object.keys(overrides) };
}

describeReal("the pinned Open WebUI with the private stack's rendered environment", () => {
    let webuiEnv: Env;
    let answerEnv: Env;
    let image: string;
    let ollama: OllamaServer | undefined;
    let qdrant: Started | undefined;
    let answer: Started | undefined;
    let pg: PgCluster | undefined;
    let cache: Process | undefined;
    let webui: Process | undefined;
    let dataDir: string | undefined;
    let startupMs = 0;

    beforeAll(async () => {
        const plan = await committedPlan("private");
        const byName = (n: string) =>
            ofType(plan.resources, docker.Container).find((c) => c.inputs["name"] === n) as RecordedResource;
        webuiEnv = envOf(byName("open-webui"));
        answerEnv = envOf(byName("rag-answer"));
        image = String(byName("open-webui").inputs["image"]);

        ollama = await startOllama(ollamaBin!);
        // Open WebUI's venv holds qdrant-client (.ci/webui.sh, for VECTOR_DB=qdrant): it runs the stand-in too.
        qdrant = await startQdrantLocal(venv!, answerEnv["QDRANT_API_KEY"] ?? "");
        // The answering service as its container runs it (stdlib only), its addresses on loopback.
        answer = await startAnswer(venv!.python, {
            ...answerEnv,
            OLLAMA_URL: ollama.endpoint,
            QDRANT_URL: qdrant.url,
        });
        pg = await startCluster(pgBin!, "webui");
        const db = new URL(webuiEnv["DATABASE_URL"] ?? "");
        const [user, password, name] = [db.username, decodeURIComponent(db.password), db.pathname.slice(1)];
        // What the database container's set-up makes for Open WebUI: its role, with the password, and its
        // database. The throwaway cluster trusts loopback (tests/helpers/postgres.ts): the password is sent, not checked.
        pg.sql("postgres", `CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
        pg.sql("postgres", `CREATE DATABASE ${name} OWNER ${user}`);
        cache = await startRedis(decodeURIComponent(new URL(webuiEnv["REDIS_URL"] ?? "").password));
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-webui-"));

        const { env } = loopbackEnv(webuiEnv, {
            ollama: ollama.endpoint,
            qdrant: qdrant.url,
            answer: answer.url,
            postgresPort: pg.port,
            redis: cache.url,
            dataDir,
        });
        const started = Date.now();
        webui = await startWebui(venv!, env, STARTUP_MS);
        startupMs = Date.now() - started;
        console.log(`Open WebUI ${installedVersion(venv!)} answered /health after ${(startupMs / 1000).toFixed(1)} s`);
    });

    afterAll(async () => {
        for (const p of [webui, cache, answer, qdrant, ollama]) await p?.stop().catch(() => undefined);
        pg?.stop();
        if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    });

    /** A test that prints Open WebUI's log tail when it fails. */
    const it = (name: string, fn: () => void | Promise<void>) =>
        test(name, async () => {
            try {
                await fn();
            } catch (err) {
                console.log(`Open WebUI's log, the last 8 kB:\n${webui?.log().slice(-8000) ?? "(not started)"}`);
                throw err;
            }
        });

    const post = (url: string, body: object, token?: string) =>
        fetch(url, {
            method: "POST",
            headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
            body: JSON.stringify(body),
        });
    const signin = (email: string, password: string) => post(`${webui!.url}/api/v1/auths/signin`, { email, password });

    it("the venv holds the release the private stack's image pins", () => {
        expect(image).toMatch(/^ghcr\.io\/open-webui\/open-webui:v\d+\.\d+\.\d+$/);
        expect(`v${installedVersion(venv!)}`).toBe(image.split(":").pop());
    });

    it("only addresses, the data folder and the offline switches differ from the rendered environment", () => {
        const { env, changed } = loopbackEnv(webuiEnv, {
            ollama: "http://127.0.0.1:1",
            qdrant: "http://127.0.0.1:2",
            answer: "http://127.0.0.1:3",
            postgresPort: 4,
            redis: "redis://127.0.0.1:5",
            dataDir: "/tmp/d",
        });
        const differ = Object.keys(env).filter((k) => env[k] !== webuiEnv[k]);
        expect(differ.sort()).toEqual(changed.sort());
        expect(changed.sort()).toEqual(
            [
                ...["OLLAMA_BASE_URL", "QDRANT_URI", "OPENAI_API_BASE_URLS", "DATABASE_URL", "REDIS_URL"],
                ...["WEBSOCKET_REDIS_URL", "DATA_DIR", "HOME", "OFFLINE_MODE"],
            ].sort(),
        );
        expect(env["DATABASE_URL"]).toBe(webuiEnv["DATABASE_URL"]?.replace("10.10.10.20:5432", "127.0.0.1:4"));
        expect(env["REDIS_URL"]).toBe(webuiEnv["REDIS_URL"]?.replace("10.10.10.21:6379", "127.0.0.1:5"));
        // What the test relies on is rendered, not added here.
        expect(webuiEnv).toMatchObject({ WEBUI_AUTH: "True", ENABLE_SIGNUP: "False", ENABLE_OPENAI_API: "True" });
        expect(webuiEnv["WEBUI_ADMIN_EMAIL"]).toBeTruthy();
        expect(webuiEnv["WEBUI_ADMIN_PASSWORD"]).toBeTruthy();
    });

    it("the first admin from the secrets signs in and gets a token; a wrong password does not", async () => {
        const res = await signin(webuiEnv["WEBUI_ADMIN_EMAIL"]!, webuiEnv["WEBUI_ADMIN_PASSWORD"]!);
        expect(res.status).toBe(200);
        const body = (await res.json()) as { token?: string; role?: string; email?: string };
        expect(body).toMatchObject({ role: "admin", email: webuiEnv["WEBUI_ADMIN_EMAIL"] });
        expect(body.token).toMatch(/^\S{20,}$/);
        const wrong = await signin(webuiEnv["WEBUI_ADMIN_EMAIL"]!, `${webuiEnv["WEBUI_ADMIN_PASSWORD"]}-not`);
        expect(wrong.status).toBe(400);
    });

    // Open WebUI 0.12.4 also turns sign-up off by itself once it has made the admin from the environment
    // (open_webui/main.py, lifespan: "Disable signup since we now have an admin"), so this holds whatever
    // ENABLE_SIGNUP says; what it proves is the closed door: the admin exists before anyone can sign up first.
    it("a sign-up is refused, and makes no account", async () => {
        const who = { name: "Mallory", email: "mallory@example.com", password: "a-long-enough-password-1" };
        const res = await post(`${webui!.url}/api/v1/auths/signup`, who);
        expect(res.status).toBe(403);
        expect((await signin(who.email, who.password)).status).toBe(400);
        // Its users are in the PostgreSQL DATABASE_URL names: the admin alone.
        const db = new URL(webuiEnv["DATABASE_URL"] ?? "").pathname.slice(1);
        expect(pg!.sql(db, `SELECT email || ' ' || role FROM "user"`)).toBe(`${webuiEnv["WEBUI_ADMIN_EMAIL"]} admin`);
    });

    it("its shared state is in the Redis REDIS_URL names", () => {
        const url = new URL(cache!.url);
        const password = decodeURIComponent(new URL(webuiEnv["REDIS_URL"] ?? "").password);
        const keys = execFileSync(
            "redis-cli",
            ["-h", url.hostname, "-p", url.port, "--no-auth-warning", "-a", password, "-n", "0", "--scan"],
            {
                encoding: "utf8",
            },
        );
        expect(keys.split("\n").filter((k) => k.startsWith("open-webui:")).length).toBeGreaterThan(0);
    });

    // The web search names the private stack renders (ENABLE_WEB_SEARCH, WEB_SEARCH_ENGINE, SEARXNG_QUERY_URL) are the
    // ones this release reads: open_webui/config.py maps them to web.search.*, and routers/retrieval.py get_rag_config
    // (admin only) reports them under "web". A misspelt name would leave Open WebUI's default (search off).
    it("web search is on, through SearXNG at the rendered URL, as its retrieval settings report", async () => {
        const signedIn = await signin(webuiEnv["WEBUI_ADMIN_EMAIL"]!, webuiEnv["WEBUI_ADMIN_PASSWORD"]!);
        const { token } = (await signedIn.json()) as { token: string };
        const res = await fetch(`${webui!.url}/api/v1/retrieval/config`, {
            headers: { Authorization: `Bearer ${token}` },
        });
        expect(res.status).toBe(200);
        const web = ((await res.json()) as { web: Record<string, unknown> }).web;
        expect(webuiEnv).toMatchObject({ ENABLE_WEB_SEARCH: "True", WEB_SEARCH_ENGINE: "searxng" });
        expect(web).toMatchObject({
            ENABLE_WEB_SEARCH: true,
            WEB_SEARCH_ENGINE: "searxng",
            SEARXNG_QUERY_URL: webuiEnv["SEARXNG_QUERY_URL"],
        });
    });

    it('the model list has "documents" from the OpenAI connection, which is the answering service', async () => {
        const signedIn = await signin(webuiEnv["WEBUI_ADMIN_EMAIL"]!, webuiEnv["WEBUI_ADMIN_PASSWORD"]!);
        const { token } = (await signedIn.json()) as { token: string };
        const before = (answer!.log().match(/"GET \/v1\/models HTTP\/1\.1" 200/g) ?? []).length;
        const res = await fetch(`${webui!.url}/api/models?refresh=true`, {
            headers: { Authorization: `Bearer ${token}` },
        });
        expect(res.status).toBe(200);
        const models = ((await res.json()) as { data: Record<string, unknown>[] }).data;
        const documents = models.filter((m) => m["id"] === "documents");
        expect(documents).toEqual([
            expect.objectContaining({
                id: "documents",
                owned_by: "openai",
                // The answering service's own entry, as it served it (container-files/rag-answer.py).
                openai: expect.objectContaining({ id: "documents", owned_by: "ai-dualstack" }) as unknown,
            }),
        ]);
        // Open WebUI asked the answering service, with the key it holds (a wrong one gets 401).
        expect((answer!.log().match(/"GET \/v1\/models HTTP\/1\.1" 200/g) ?? []).length).toBeGreaterThan(before);
        // Without a token there is no list.
        expect((await fetch(`${webui!.url}/api/models`)).status).toBe(401);
    });
});
