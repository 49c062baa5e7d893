// The rendered docker-compose.yml of both VMs, checked by compose-go (the Compose Specification's
// reference loader, the one `docker compose config` runs; .ci/compose-validate.sh builds it), and
// the plain rendering rules: bind address, GPU reservation, env files, proxy routes.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { renderCompose } from "../../../components/workload/composeFile";
import { WorkloadSpec, ollamaEndpoint, serviceUrls, workloadSpec } from "../../../components/workload/spec";
import { traefikArgs, traefikDynamicConfig } from "../../../components/workload/traefik";
import { EnvironmentName, TRUSTED_ENTRYPOINT_PORT } from "../../../config/schema";
import { serviceGraph } from "../../../config/rules/workload";
import { dependencyOrder } from "../../../lib/graph";
import { stackModel } from "../../helpers/config";
import { validator } from "../../helpers/sandbox";

function specOf(env: EnvironmentName): WorkloadSpec {
    const model = stackModel(env);
    const vm = model.vms[0];
    if (!vm) throw new Error(`the ${env} stack has no VM`);
    return workloadSpec(vm, env, model.network.trustedSources);
}

const priv = specOf("private");
const pub = specOf("public");
type ComposeDoc = {
    services: Record<string, Record<string, unknown>>;
    configs?: Record<string, { content: string }>;
    volumes?: Record<string, { name: string }>;
};
const doc = (spec: WorkloadSpec) => parse(renderCompose(spec)) as ComposeDoc;

describe("compose-go accepts the rendered files and rejects broken ones", () => {
    const tool = validator("compose-validate");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-compose-"));
    const check = (name: string, text: string) => {
        const file = path.join(dir, name, "docker-compose.yml");
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, text);
        return spawnSync(tool as string, [file], { encoding: "utf8" });
    };
    const maybe = tool ? test : test.skip;

    maybe.each([
        ["private", priv],
        ["public", pub],
    ])("the %s VM's docker-compose.yml is a valid compose project", (name, spec) => {
        const run = check(name, renderCompose(spec));
        expect(run.stderr).toBe("");
        expect(run.status).toBe(0);
    });

    maybe("a service on a network the file does not define is rejected", () => {
        const broken = renderCompose(pub).replace(/^ {6}- ai$/m, "      - backend");
        expect(broken).not.toBe(renderCompose(pub));
        const run = check("broken-network", broken);
        expect(run.status).toBe(1);
        expect(run.stderr).toMatch(/undefined network backend/);
    });

    maybe("a healthcheck with a number where compose wants a string is rejected", () => {
        const broken = renderCompose(priv).replace("retries: 3", "retries: three");
        const run = check("broken-type", broken);
        expect(run.status).toBe(1);
        expect(run.stderr).toMatch(/retries/);
    });
});

test("private ports bind to the private VM's address only", () => {
    const ports = Object.values(doc(priv).services).flatMap((s) => (s["ports"] ?? []) as { host_ip: string }[]);
    expect(ports.length).toBeGreaterThan(0);
    expect(new Set(ports.map((p) => p.host_ip))).toEqual(new Set(["10.10.10.10"]));
});

test("on public only the proxy publishes, and only 80, 443 and its trusted entrypoint", () => {
    const publishing = Object.entries(doc(pub).services).filter(([, s]) => s["ports"] !== undefined);
    expect(publishing.map(([n]) => n)).toEqual(["proxy"]);
    const ports = (publishing[0]?.[1]["ports"] ?? []) as { published: string; target: number }[];
    expect(ports.map((p) => [p.published, p.target])).toEqual([
        ["80", 80],
        ["443", 443],
        ["8480", TRUSTED_ENTRYPOINT_PORT],
    ]);
});

test("the GPU is reserved exactly for the services that ask for it", () => {
    const gpuServices = (spec: WorkloadSpec) =>
        Object.entries(doc(spec).services)
            .filter(([, s]) => JSON.stringify(s["deploy"] ?? {}).includes('"capabilities":["gpu"]'))
            .map(([n]) => n)
            .sort();
    expect(gpuServices(priv)).toEqual(["jupyter", "nvidia-exporter", "ollama"]);
    expect(gpuServices(pub)).toEqual(["nvidia-exporter", "ollama"]);
});

test("every service has a healthcheck and a pinned image", () => {
    for (const spec of [priv, pub]) {
        for (const [name, svc] of Object.entries(doc(spec).services)) {
            const probe = (svc["healthcheck"] as { test: string[] }).test;
            expect([name, /^CMD(-SHELL)?$/.test(probe[0] ?? ""), probe.length > 1]).toEqual([name, true, true]);
            expect(svc["image"]).toMatch(/[:@]/);
            expect(svc["image"]).not.toMatch(/:latest$/);
        }
    }
});

test("secrets go to env files that the header names, never into the file", () => {
    const text = renderCompose(priv);
    const webui = doc(priv).services["open-webui"] as Record<string, unknown>;
    expect(webui["env_file"]).toEqual([{ path: "./open-webui.env", required: true }]);
    expect(webui["environment"]).not.toHaveProperty("DATABASE_URL");
    expect(text).toMatch(
        /^# {3}open-webui\.env: DATABASE_URL, OPENAI_API_KEYS, QDRANT_API_KEY, REDIS_URL, WEBSOCKET_REDIS_URL, WEBUI_ADMIN_PASSWORD, WEBUI_SECRET_KEY$/m,
    );
    // The templates' secret names are not values, but their filled forms must not appear either.
    expect(text).not.toMatch(/postgresql:\/\/openwebui:/);
    expect(text).not.toContain("{{");
});

test("a literal $ survives compose interpolation", () => {
    const spec: WorkloadSpec = {
        ...priv,
        services: {
            ollama: {
                ...(priv.services["ollama"] as WorkloadSpec["services"][string]),
                environment: { PROMPT: "costs $5" },
            },
        },
    };
    const ollama = doc(spec).services["ollama"] as { environment: Record<string, string> };
    expect(ollama.environment["PROMPT"]).toBe("costs $$5");
});

test("the proxy's routes: TLS and rate limits for the world, plain HTTP for trusted networks only", () => {
    const proxy = pub.services["proxy"]?.proxy;
    if (!proxy) throw new Error("the public VM has no proxy");
    const dynamic = parse(traefikDynamicConfig(pub, proxy)) as {
        http: {
            routers: Record<string, { entryPoints: string[]; middlewares?: string[]; tls?: unknown; rule: string }>;
            middlewares: Record<string, Record<string, Record<string, unknown>>>;
        };
    };
    const { routers, middlewares } = dynamic.http;
    expect(middlewares["trusted-only"]?.["ipAllowList"]?.["sourceRange"]).toEqual(["192.168.1.0/24"]);
    expect(middlewares["rate-limit"]?.["rateLimit"]).toEqual({ average: 20, burst: 50 });
    const chat = Object.values(routers).find((r) => r.rule === "Host(`chat.example.com`)");
    expect(chat).toMatchObject({ entryPoints: ["websecure"], tls: { certResolver: "le" } });
    expect(chat?.middlewares).toEqual(["security-headers", "rate-limit"]);
    // The plain routes (Ollama, the exporters) listen on the trusted entrypoint alone: nothing on the
    // internet-facing 80 but the redirect, whatever Host header a request forges.
    const plain = Object.entries(routers).filter(([, r]) => r.tls === undefined && r.rule.includes("Host"));
    expect(plain.map(([id]) => id).sort()).toEqual([
        "route-1-ollama",
        "route-2-node-exporter",
        "route-3-cadvisor",
        "route-4-nvidia-exporter",
    ]);
    for (const [, r] of plain) {
        expect(r.entryPoints).toEqual(["trusted"]);
        expect(r.middlewares?.[0]).toMatch(/^trusted-(only|or-monitoring)$/);
        expect(r.middlewares).not.toContain("security-headers");
    }
    const onWeb = Object.entries(routers).filter(([, r]) => r.entryPoints.includes("web"));
    expect(onWeb.map(([id]) => id)).toEqual(["http-to-https"]);
    for (const r of Object.values(routers)) expect(r.entryPoints).toHaveLength(1);
    // HSTS and the hardening headers on every TLS route.
    expect(middlewares["security-headers"]?.["headers"]).toMatchObject({
        stsSeconds: 31536000,
        contentTypeNosniff: true,
        frameDeny: true,
        referrerPolicy: "strict-origin-when-cross-origin",
    });
    // Open WebUI's sign-in: its own router, ahead of the chat's, with the strict per-minute limit.
    const login = Object.values(routers).find((r) => r.rule.includes("/api/v1/auths/signin"));
    expect(login).toMatchObject({
        rule: "Host(`chat.example.com`) && (Path(`/api/v1/auths/signin`))",
        entryPoints: ["websecure"],
        priority: 1000,
        middlewares: ["security-headers", "login-rate-limit"],
        tls: { certResolver: "le" },
    });
    expect(middlewares["login-rate-limit"]?.["rateLimit"]).toEqual({ average: 10, period: "1m", burst: 5 });
    // The compose file carries the same routes as an inline config mounted into the proxy.
    expect(doc(pub).configs?.["traefik-dynamic"]?.content).toContain("ipAllowList");
});

test("the proxy listens on its trusted entrypoint only when it has plain routes", () => {
    const proxy = pub.services["proxy"]?.proxy;
    if (!proxy) throw new Error("the public VM has no proxy");
    const entrypoints = (args: string[]) => args.filter((a) => a.startsWith("--entrypoints."));
    expect(entrypoints(traefikArgs(proxy))).toEqual([
        "--entrypoints.web.address=:80",
        "--entrypoints.websecure.address=:443",
        "--entrypoints.trusted.address=:8480",
    ]);
    // Let's Encrypt's challenge stays on the internet-facing 80.
    expect(traefikArgs(proxy)).toContain("--certificatesresolvers.le.acme.httpchallenge.entrypoint=web");
    const tlsOnly = { ...proxy, routes: proxy.routes.filter((r) => r.tls) };
    expect(entrypoints(traefikArgs(tlsOnly))).toEqual([
        "--entrypoints.web.address=:80",
        "--entrypoints.websecure.address=:443",
    ]);
});

test("the Ollama endpoint: the published port on private, the trusted proxy route on public", () => {
    expect(ollamaEndpoint(priv)).toBe("http://10.10.10.10:11434");
    // On public, the proxy's trusted entrypoint (published 8480), not the internet-facing 80.
    expect(ollamaEndpoint(pub)).toBe("http://10.20.20.10:8480");
    expect(serviceUrls(pub)["ollama"]).toEqual(["http://10.20.20.10:8480"]);
    expect(serviceUrls(pub)["node-exporter"]).toEqual(["http://10.20.20.10:8480/metrics/node"]);
    expect(serviceUrls(pub)["chat"]).toEqual(["https://chat.example.com"]);
    expect(serviceUrls(pub)["chromadb"]).toEqual([]);
});

test("services start after what they depend on, the proxy last", () => {
    const order = dependencyOrder(serviceGraph(pub.services), "proxy");
    expect(order.indexOf("chat")).toBeGreaterThan(order.indexOf("ollama"));
    expect(order.indexOf("chat")).toBeGreaterThan(order.indexOf("chromadb"));
    expect(order[order.length - 1]).toBe("proxy");
});

test("repository files reach the container inline, the same text Pulumi uploads", () => {
    const script = fs.readFileSync(path.join(__dirname, "..", "..", "..", "container-files", "rag-ingest.py"), "utf8");
    const ingest = doc(priv).services["rag-ingest"] as { configs: { source: string; target: string }[] };
    expect(ingest.configs).toEqual([{ source: "rag-ingest-rag-ingest-py", target: "/app/rag-ingest.py" }]);
    expect(doc(priv).configs?.["rag-ingest-rag-ingest-py"]?.content).toBe(script);
});

test("named volumes are per VM; host paths stay binds", () => {
    expect(priv.volumes).toMatchObject({ models: "private-ai-models", "qdrant-data": "private-ai-qdrant-data" });
    expect(Object.keys(priv.volumes)).not.toContain("/sys");
    const cadvisor = doc(priv).services["cadvisor"] as { volumes: { type: string; source: string }[] };
    expect(cadvisor.volumes.every((v) => v.type === "bind")).toBe(true);
});
