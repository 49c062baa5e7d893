// The rules of a service's `clients` (config/rules/clients.ts), run on the committed private config with
// one edit each, without Pulumi; the whole-program fixtures are in tests/fixtures/invalid/clients-*.yaml.

import { checkClients, urlHosts } from "../../config/rules/clients";
import { collect } from "../../config/rules/issues";
import { ParsedConfig, ServiceConfig } from "../../config/schema";
import { parsedConfig } from "../helpers/config";

type Services = Record<string, ServiceConfig>;

/** The private stack's findings after `edit` changes private-ai's services. */
function findings(edit: (services: Services) => void = () => {}) {
    const cfg: ParsedConfig = structuredClone(parsedConfig("private"));
    const vm = cfg.vms["private-ai"];
    if (!vm) throw new Error("the private stack has no private-ai");
    edit(vm.services);
    return collect((add) => checkClients(cfg, add));
}
const svc = (services: Services, name: string): ServiceConfig => {
    const s = services[name];
    if (!s) throw new Error(`no service ${name}`);
    return s;
};
const at = "vms.private-ai.services";

test("the committed config has isolated services and no finding", () => {
    const services = parsedConfig("private").vms["private-ai"]?.services ?? {};
    expect(services["rag-answer"]?.clients).toEqual(["open-webui"]);
    expect(findings()).toEqual([]);
});

test("urlHosts reads the host of every URL, after any user info, and nothing of a bare name or an address", () => {
    expect(urlHosts("http://rag-answer:8000/v1; https://api.example.com/v1;http://other/v1")).toEqual([
        "rag-answer",
        "other",
    ]);
    expect(urlHosts("redis://:{{pw}}@cache:6379/0")).toEqual(["cache"]);
    expect(urlHosts("postgresql://u:{{pw}}@10.10.10.20:5432/db")).toEqual([]);
    expect(urlHosts("http://searxng")).toEqual(["searxng"]);
    expect(urlHosts("chromadb")).toEqual([]);
});

test("a client names a service of the VM, other than itself", () => {
    expect(findings((s) => (svc(s, "searxng").clients = ["open-webui", "searxng", "webui"]))).toEqual([
        { path: `${at}.searxng.clients[1]`, message: "a service is always on its own network; remove it" },
        {
            path: `${at}.searxng.clients[2]`,
            message: expect.stringMatching(
                /^unknown service "webui"; services of vm "private-ai": "ollama", /,
            ) as unknown,
        },
    ]);
});

test("a service with clients publishes no port and is no proxy", () => {
    expect(findings((s) => (svc(s, "searxng").ports = [{ published: 8080, target: 8080, protocol: "tcp" }]))).toEqual([
        {
            path: `${at}.searxng.ports`,
            message: `a service with clients is reached by "open-webui" alone, and a published port opens it beyond them; remove ports, or remove ${at}.searxng.clients`,
        },
    ]);
    const proxy = {
        acmeEmail: "a@b.net",
        rateLimit: { average: 1, burst: 1 },
        loginRateLimit: { perMinute: 1, burst: 1 },
    };
    const routes = [
        { host: "x.net", service: "open-webui", port: 8080, tls: true, trustedOnly: false, loginPaths: [] },
    ];
    expect(findings((s) => (svc(s, "searxng").proxy = { ...proxy, routes })).map((i) => i.path)).toEqual([
        `${at}.searxng.clients`,
    ]);
});

test("a proxy route to a service with clients is refused at the route", () => {
    const proxy = {
        acmeEmail: "a@b.net",
        rateLimit: { average: 1, burst: 1 },
        loginRateLimit: { perMinute: 1, burst: 1 },
    };
    const route = { host: "x.net", port: 8000, tls: true, trustedOnly: false, loginPaths: [] };
    const issues = findings((s) => {
        svc(s, "documents").proxy = {
            ...proxy,
            routes: [
                { ...route, service: "open-webui" },
                { ...route, service: "rag-answer" },
            ],
        };
    });
    expect(issues).toEqual([
        {
            path: `${at}.documents.proxy.routes[1].service`,
            message: `"rag-answer" is reached by its clients alone (${at}.rag-answer.clients: "open-webui"), and a proxy route would open it beyond them; remove the route, or remove those clients`,
        },
    ]);
});

test("a URL in environment or secretEnvironment, or a dependsOn, to a service with clients needs to be one of them", () => {
    const issues = findings((s) => {
        svc(s, "documents").environment["SEARCH"] = "http://searxng:8080/search?q=<query>";
        svc(s, "documents").secretEnvironment["RAG"] = "http://{{ragApiKey}}@rag-answer:8000/v1";
        svc(s, "jupyter").dependsOn = ["rag-answer"];
        // The clients themselves, and the service's own URLs, are fine.
        svc(s, "rag-answer").environment["SELF"] = "http://rag-answer:8000/health";
    });
    expect(issues).toEqual([
        {
            path: `${at}.documents.environment.SEARCH`,
            message: `names "searxng", which only its clients reach, and "documents" is not one of them; add "documents" to ${at}.searxng.clients ("open-webui"), or remove the URL`,
        },
        {
            path: `${at}.documents.secretEnvironment.RAG`,
            message: `names "rag-answer", which only its clients reach, and "documents" is not one of them; add "documents" to ${at}.rag-answer.clients ("open-webui"), or remove the URL`,
        },
        {
            path: `${at}.jupyter.dependsOn[0]`,
            message: `waits for "rag-answer", which only its clients reach, and "jupyter" is not one of them; add "jupyter" to ${at}.rag-answer.clients ("open-webui"), or remove the dependency`,
        },
    ]);
    // Listed as a client, the same URL is fine.
    expect(
        findings((s) => {
            svc(s, "documents").environment["SEARCH"] = "http://searxng:8080/search?q=<query>";
            svc(s, "searxng").clients = ["open-webui", "documents"];
        }),
    ).toEqual([]);
});
