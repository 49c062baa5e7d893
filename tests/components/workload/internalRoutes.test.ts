// The routes between one VM's services that their environment names (components/workload/spec.ts):
// what the plan prints as "route open-webui → rag-answer" and "route open-webui → searxng".

import { internalRoutes } from "../../../components/workload/spec";

const svc = (environment: Record<string, string> = {}) => ({ environment });

test("OpenAI backends (split on ;) and the SearXNG URL that name a service of the VM are routes", () => {
    const routes = internalRoutes({
        "open-webui": svc({
            OPENAI_API_BASE_URLS: "http://rag-answer:8000/v1; https://api.example.com/v1;http://other:1/v1",
            SEARXNG_QUERY_URL: "http://searxng:8080/search?q=<query>",
        }),
        "rag-answer": svc(),
        searxng: svc(),
    });
    expect(routes).toEqual([
        { from: "open-webui", to: "rag-answer", url: "http://rag-answer:8000/v1", kind: "OpenAI API" },
        { from: "open-webui", to: "searxng", url: "http://searxng:8080/search?q=<query>", kind: "web search" },
    ]);
});

test("a URL to another host, to the service itself, or no URL at all is no route", () => {
    expect(
        internalRoutes({
            chat: svc({
                OPENAI_API_BASE_URLS: "http://chat:8080/v1",
                SEARXNG_QUERY_URL: "https://search.example.com/?q=<query>",
            }),
            ollama: svc({ OLLAMA_HOST: "0.0.0.0:11434" }),
        }),
    ).toEqual([]);
});
