// Both stacks' containers in mock mode: pinned images, the GPU on the right VM, private services
// bound to the private bridge only, only the proxy publishing on public, healthchecks, secrets
// that stay secret, and the order in which the workload waits for its VM.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PINNED_IMAGE } from "../../../config/schema";
import { containsIp, parseCidr } from "../../../lib/ipv4";
import { RecordedResource } from "../../../testing/mockRuntime";
import { PLACEHOLDER_SECRETS, serviceSecretPlaceholders } from "../../../testing/stackFiles";
import { PlannedStack, planStack } from "../../../testing/planStack";
import { one, ofType, promiseOf, runStack } from "../../helpers/pulumi";
import { parsedConfig, stackModel } from "../../helpers/config";
import { renderCompose } from "../../../components/workload/composeFile";
import { workloadSpec } from "../../../components/workload/spec";
import { serviceEnvs } from "../../../components/workload/composeWorkload";

let priv: PlannedStack;
let pub: PlannedStack;

beforeAll(async () => {
    priv = await runStack("private");
    pub = await runStack("public");
}, 60_000);

type Port = { internal: number; external: number; ip: string; protocol: string };
const containers = (p: PlannedStack) => ofType(p.resources, docker.Container);
const byName = (p: PlannedStack) =>
    Object.fromEntries(containers(p).map((c) => [c.inputs["name"] as string, c] as const));
const ports = (c: RecordedResource) => (c.inputs["ports"] ?? []) as Port[];

/** The ssh:// host of the docker provider a resource goes through. */
function dockerHost(p: PlannedStack, r: RecordedResource): string {
    const providerUrn = (r.provider ?? "").split("::").slice(0, -1).join("::");
    const provider = p.resources.find((x) => x.urn === providerUrn);
    return String(provider?.inputs["host"]);
}

test("every service is an image and a container of its own, the images pinned", () => {
    for (const p of [priv, pub]) {
        const images = ofType(p.resources, docker.RemoteImage);
        expect(images.length).toBe(containers(p).length);
        for (const image of images) {
            const ref = image.inputs["name"] as string;
            expect(ref).toMatch(PINNED_IMAGE);
            expect(ref).not.toMatch(/:latest(@|$)/);
        }
        for (const c of containers(p)) expect(c.inputs["image"]).toMatch(PINNED_IMAGE);
    }
    expect(Object.keys(byName(priv)).sort()).toEqual(
        [
            "cadvisor",
            "documents",
            "jupyter",
            "node-exporter",
            "nvidia-exporter",
            "ollama",
            "open-webui",
            "qdrant",
            "rag-answer",
            "rag-ingest",
            "searxng",
        ].sort(),
    );
    expect(Object.keys(byName(pub)).sort()).toEqual(
        ["cadvisor", "chat", "chromadb", "node-exporter", "nvidia-exporter", "ollama", "proxy", "searxng"].sort(),
    );
});

test("each VM's Docker is reached over SSH at the VM's own address", () => {
    expect(one(priv.resources, docker.Provider).inputs).toMatchObject({ host: "ssh://ubuntu@10.10.10.10" });
    expect(one(pub.resources, docker.Provider).inputs).toMatchObject({ host: "ssh://ubuntu@10.20.20.10" });
    for (const c of containers(priv)) expect(dockerHost(priv, c)).toBe("ssh://ubuntu@10.10.10.10");
    for (const c of containers(pub)) expect(dockerHost(pub, c)).toBe("ssh://ubuntu@10.20.20.10");
});

test("the GPU goes to the containers that ask for it, on the VM that holds that GPU", () => {
    const gpuUsers = (p: PlannedStack) =>
        containers(p)
            .filter((c) => c.inputs["gpus"] !== undefined)
            .map((c) => c.inputs["name"])
            .sort();
    expect(gpuUsers(priv)).toEqual(["jupyter", "nvidia-exporter", "ollama"]);
    expect(gpuUsers(pub)).toEqual(["nvidia-exporter", "ollama"]);
    // The private VM holds the RTX 5090, the public one the RTX 3060.
    expect(priv.outputs?.vms["private-ai"]?.gpu?.name).toBe("rtx5090");
    expect(pub.outputs?.vms["public-ai"]?.gpu?.name).toBe("rtx3060");
    expect(byName(priv)["qdrant"]?.inputs["gpus"]).toBeUndefined();
});

test("private services are bound to the private bridge only, never reachable from the public network", () => {
    const privateNet = parseCidr("10.10.10.0/24");
    const publicNet = parseCidr("10.20.20.0/24");
    const bound = containers(priv).flatMap(ports);
    expect(bound.length).toBeGreaterThanOrEqual(8);
    expect(byName(priv)["rag-ingest"]?.inputs["uploads"]).toEqual([
        { file: "/app/rag-ingest.py", content: expect.stringContaining("def chunk(") as unknown },
    ]);
    for (const p of bound) {
        expect(p.ip).toBe("10.10.10.10");
        expect(containsIp(privateNet, p.ip)).toBe(true);
        expect(containsIp(publicNet, p.ip)).toBe(false);
    }
    // The VM's own firewall opens its published ports to the LAN, the VPN (also as the WireGuard
    // container, 10.10.10.22, which masquerades it) and the monitoring container.
    const rules = one(priv.resources, proxmoxve.firewall.RulesLegacy, "private-ai-firewall-rules");
    const own = (rules.inputs["rules"] as Record<string, unknown>[]).filter((r) => !r["securityGroup"]);
    expect(own.map((r) => r["source"]).sort()).toEqual([
        "10.10.10.22/32",
        "10.10.10.24/32",
        "10.8.0.0/24",
        "192.168.1.0/24",
    ]);
    for (const r of own) expect(containsIp(publicNet, String(r["source"]).split("/")[0] as string)).toBe(false);
});

test("on public only the proxy publishes ports, and only 80, 443 and its trusted entrypoint", () => {
    const publishing = containers(pub).filter((c) => ports(c).length > 0);
    expect(publishing.map((c) => c.inputs["name"])).toEqual(["proxy"]);
    expect(ports(publishing[0] as RecordedResource).map((p) => p.external)).toEqual([80, 443, 8480]);
    const proxy = byName(pub)["proxy"] as RecordedResource;
    const uploads = proxy.inputs["uploads"] as { file: string; content: string }[];
    expect(uploads[0]?.file).toBe("/etc/traefik/dynamic.yml");
    expect(uploads[0]?.content).toContain("rateLimit");
    expect(proxy.inputs["command"]).toContain("--certificatesresolvers.le.acme.httpchallenge.entrypoint=web");
    expect(proxy.inputs["command"]).toContain("--entrypoints.trusted.address=:8480");
});

test("every container has a healthcheck and waits until healthy", () => {
    for (const c of [...containers(priv), ...containers(pub)]) {
        const h = c.inputs["healthcheck"] as { tests: string[]; interval: string };
        expect([c.inputs["name"], /^CMD(-SHELL)?$/.test(h.tests[0] ?? "")]).toEqual([c.inputs["name"], true]);
        expect(h.tests.length).toBeGreaterThan(1);
        expect(c.inputs["wait"]).toBe(true);
    }
});

test("no secret value appears in a plain input, an output or the compose file", () => {
    const values = ["private", "public"].flatMap((stack) => Object.values(serviceSecretPlaceholders(stack)));
    expect(values).toContain("offline-placeholder-qdrantApiKey");
    for (const p of [priv, pub]) {
        for (const r of p.resources) {
            for (const [key, value] of Object.entries(r.inputs)) {
                if (r.secretInputs.includes(key)) continue;
                const text = JSON.stringify(value) ?? "";
                for (const v of values)
                    expect({ resource: r.name, key, leaks: text.includes(v) }).toMatchObject({ leaks: false });
            }
        }
        const outputs = JSON.stringify(p.outputs);
        for (const v of values) expect(outputs).not.toContain(v);
    }
    for (const env of ["private", "public"] as const) {
        const model = stackModel(env);
        for (const vm of model.vms) {
            const text = renderCompose(workloadSpec(vm, env, model.network.trustedSources));
            for (const v of values) expect(text).not.toContain(v);
        }
    }
    // The containers that need a secret get it, as a secret input.
    const webui = byName(priv)["open-webui"] as RecordedResource;
    expect(webui.secretInputs).toContain("envs");
    expect(webui.inputs["envs"]).toContain("QDRANT_API_KEY=offline-placeholder-qdrantApiKey");
    expect(webui.inputs["envs"]).toContain(
        "DATABASE_URL=postgresql://openwebui:offline-placeholder-postgresPassword@10.10.10.20:5432/openwebui",
    );
    expect(byName(priv)["ollama"]?.secretInputs).not.toContain("envs");
});

test("the workload waits for the VM: tune (start) → docker-ready → images, network, volumes", () => {
    for (const [p, vm] of [
        [priv, "private-ai"],
        [pub, "public-ai"],
    ] as const) {
        const tune = one(p.resources, command.remote.Command, `${vm}-tune`);
        const ready = one(p.resources, command.remote.Command, `${vm}-workload-docker-ready`);
        expect(ready.dependencies).toContain(tune.urn);
        expect(ready.inputs["connection"]).toMatchObject({ host: vm === "private-ai" ? "10.10.10.10" : "10.20.20.10" });
        for (const r of [
            ...ofType(p.resources, docker.RemoteImage),
            ...ofType(p.resources, docker.Network),
            ...ofType(p.resources, docker.Volume),
        ]) {
            expect({ name: r.name, waits: r.dependencies.includes(ready.urn) }).toEqual({ name: r.name, waits: true });
        }
    }
});

test("the outputs list each VM's services and its Ollama endpoint", () => {
    const vm = priv.outputs?.vms["private-ai"];
    expect(vm?.ollamaEndpoint).toBe("http://10.10.10.10:11434");
    // The image as Pulumi.private.yaml pins it (it moves with upgrades), and it is the Open WebUI one.
    const pinned = parsedConfig("private").vms["private-ai"]?.services["open-webui"]?.image;
    expect(pinned).toMatch(/^ghcr\.io\/open-webui\/open-webui:v\d+\.\d+\.\d+$/);
    expect(vm?.services["open-webui"]).toEqual({
        image: pinned,
        urls: ["http://10.10.10.10:3000"],
    });
    expect(pub.outputs?.vms["public-ai"]?.ollamaEndpoint).toBe("http://10.20.20.10:8480");
    expect(pub.outputs?.vms["public-ai"]?.services["chat"]?.urls).toEqual(["https://chat.example.com"]);
});

test("a service's env lines: its plain ones, then its filled secret ones, the list then held secret", async () => {
    const svc = stackModel("private").vms[0]?.services["open-webui"];
    if (!svc) throw new Error("the private VM has no open-webui service");
    const plain = serviceEnvs(svc);
    expect(plain.secret).toBe(false);
    expect(plain.envs).toEqual(Object.entries(svc.environment).map(([k, v]) => `${k}=${v}`));
    expect(plain.envs).not.toHaveLength(0);
    const filled = serviceEnvs(svc, { QDRANT_API_KEY: pulumi.secret("k3y") });
    expect(filled.secret).toBe(true);
    const envs = pulumi.output(filled.envs);
    expect(await pulumi.isSecret(envs)).toBe(true);
    expect(await promiseOf(envs)).toEqual([...(plain.envs as string[]), "QDRANT_API_KEY=k3y"]);
});

describe("SSH: one key per job, no agent forwarded, no stray agent key", () => {
    const GUEST_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZ3Vlc3QtYWRtaW4ta2V5\n-----END OPENSSH PRIVATE KEY-----\n";
    const connectionOf = (r: RecordedResource) => r.inputs["connection"] as { privateKey?: string; user?: string };

    test("the Docker provider's ssh uses only its key and forwards no agent", async () => {
        const opts = (p: PlannedStack) =>
            JSON.parse(String(one(p.resources, docker.Provider).inputs["sshOpts"])) as string[];
        for (const p of [priv, pub]) {
            expect(opts(p)).toEqual(expect.arrayContaining(["IdentitiesOnly=yes", "ForwardAgent=no", "BatchMode=yes"]));
            expect(opts(p).join(" ")).not.toContain("IdentityFile");
        }
        const withFile = await planStack("private", { overrides: { dockerSshKeyFile: "~/.ssh/ai-dualstack-docker" } });
        expect(opts(withFile)).toEqual(
            expect.arrayContaining(["IdentitiesOnly=yes", "IdentityFile=~/.ssh/ai-dualstack-docker"]),
        );
    });

    test("guestSshPrivateKey logs in to the guests; the nodes keep sshPrivateKey", async () => {
        const split = await planStack("private", { secretOverrides: { guestSshPrivateKey: GUEST_KEY } });
        const commands = ofType(split.resources, command.remote.Command);
        const guestJobs = commands.filter((c) => /-docker-ready$|-data-setup$/.test(c.name));
        const hostJobs = commands.filter((c) => /-bootstrap$|-tune$/.test(c.name));
        expect(guestJobs.length).toBeGreaterThanOrEqual(2);
        expect(hostJobs.length).toBeGreaterThanOrEqual(2);
        for (const c of guestJobs) expect(connectionOf(c).privateKey).toBe(GUEST_KEY);
        for (const c of hostJobs)
            expect(connectionOf(c).privateKey).toBe(PLACEHOLDER_SECRETS["ai-dualstack:sshPrivateKey"]);
        // Without it, one key does every job, as before.
        for (const c of ofType(priv.resources, command.remote.Command)) {
            expect(connectionOf(c).privateKey).toBe(PLACEHOLDER_SECRETS["ai-dualstack:sshPrivateKey"]);
        }
    });
});

describe("no open door on first start", () => {
    const envsOf = (c: RecordedResource) => (c.inputs["envs"] ?? []) as string[];

    test("each Open WebUI creates its admin from the environment, the password from serviceSecrets", () => {
        for (const [p, name] of [
            [priv, "open-webui"],
            [pub, "chat"],
        ] as const) {
            const c = byName(p)[name] as RecordedResource;
            // WEBUI_ADMIN_* arrived in Open WebUI v0.7.0.
            const [major, minor] = (/:v(\d+)\.(\d+)\./.exec(String(c.inputs["image"])) ?? []).slice(1).map(Number);
            expect((major ?? 0) * 100 + (minor ?? 0)).toBeGreaterThanOrEqual(7);
            expect(envsOf(c)).toEqual(
                expect.arrayContaining([
                    "WEBUI_ADMIN_EMAIL=admin@example.com",
                    "WEBUI_ADMIN_PASSWORD=offline-placeholder-webuiAdminPassword",
                    "ENABLE_SIGNUP=False",
                ]),
            );
            expect(c.secretInputs).toContain("envs");
        }
    });

    test("AnythingLLM asks for its password (AUTH_TOKEN), a secret", () => {
        const documents = byName(priv)["documents"] as RecordedResource;
        expect(envsOf(documents)).toContain("AUTH_TOKEN=offline-placeholder-anythingllmAuthToken");
        expect(documents.secretInputs).toContain("envs");
    });

    test("Open WebUI lists the documents model from rag-answer, whose key only Open WebUI holds", () => {
        const webui = byName(priv)["open-webui"] as RecordedResource;
        const answer = byName(priv)["rag-answer"] as RecordedResource;
        expect(envsOf(webui)).toEqual(
            expect.arrayContaining([
                "ENABLE_OPENAI_API=True",
                "OPENAI_API_BASE_URLS=http://rag-answer:8000/v1",
                "OPENAI_API_KEYS=offline-placeholder-ragApiKey",
            ]),
        );
        expect(envsOf(answer)).toEqual(
            expect.arrayContaining([
                "API_KEY=offline-placeholder-ragApiKey",
                "LISTEN=0.0.0.0:8000",
                "MODEL_NAME=documents",
                "COLLECTION=documents",
                "QDRANT_API_KEY=offline-placeholder-qdrantApiKey",
            ]),
        );
        // The ingest's embedding model: questions and chunks in one vector space.
        const envOf = (c: RecordedResource, k: string) => envsOf(c).find((e) => e.startsWith(`${k}=`));
        expect(envOf(answer, "EMBED_MODEL")).toBe(envOf(byName(priv)["rag-ingest"] as RecordedResource, "EMBED_MODEL"));
        expect(answer.secretInputs).toContain("envs");
        // Private only: nothing published, so the VM's firewall has nothing to open; the key is Open WebUI's alone.
        expect(ports(answer)).toEqual([]);
        const holders = containers(priv).filter((c) =>
            envsOf(c).some((e) => e.includes("offline-placeholder-ragApiKey")),
        );
        expect(holders.map((c) => c.inputs["name"]).sort()).toEqual(["open-webui", "rag-answer"]);
        expect(answer.inputs["uploads"]).toEqual([
            { file: "/app/rag-answer.py", content: expect.stringContaining("def retrieve(") as unknown },
        ]);
        expect(webui.dependencies).toContain(answer.urn);
        expect(priv.outputs?.vms["private-ai"]?.routes).toEqual(
            expect.arrayContaining([
                { from: "open-webui", to: "rag-answer", url: "http://rag-answer:8000/v1", kind: "OpenAI API" },
            ]),
        );
    });

    test("each Open WebUI searches the web through its own SearXNG, which publishes nothing", () => {
        for (const [p, vm, webuiName] of [
            [priv, "private-ai", "open-webui"],
            [pub, "public-ai", "chat"],
        ] as const) {
            const webui = byName(p)[webuiName] as RecordedResource;
            const searxng = byName(p)["searxng"] as RecordedResource;
            expect(envsOf(webui)).toEqual(
                expect.arrayContaining([
                    "ENABLE_WEB_SEARCH=True",
                    "WEB_SEARCH_ENGINE=searxng",
                    "SEARXNG_QUERY_URL=http://searxng:8080/search?q=<query>",
                ]),
            );
            expect(searxng.inputs["image"]).toMatch(/^ghcr\.io\/searxng\/searxng:\d{4}\.\d+\.\d+-[0-9a-f]+$/);
            expect(ports(searxng)).toEqual([]);
            expect(envsOf(searxng)).toContain("SEARXNG_SECRET=offline-placeholder-searxngSecret");
            expect((searxng.inputs["healthcheck"] as { tests: string[] }).tests).toEqual([
                "CMD",
                "wget",
                "-q",
                "--spider",
                "http://127.0.0.1:8080/healthz",
            ]);
            expect(searxng.inputs["uploads"]).toEqual([
                {
                    file: "/etc/searxng/settings.yml",
                    content: expect.stringMatching(/formats: \[html, json\]/) as unknown,
                },
            ]);
            expect(webui.dependencies).toContain(searxng.urn);
            expect(p.outputs?.vms[vm]?.routes).toContainEqual({
                from: webuiName,
                to: "searxng",
                url: "http://searxng:8080/search?q=<query>",
                kind: "web search",
            });
        }
    });

    test("the public proxy starts only once every service it routes to is up and healthy", () => {
        const proxy = byName(pub)["proxy"] as RecordedResource;
        const routed = ["chat", "ollama", "node-exporter", "cadvisor", "nvidia-exporter"];
        for (const name of routed) expect(proxy.dependencies).toContain((byName(pub)[name] as RecordedResource).urn);
        for (const name of routed) expect((byName(pub)[name] as RecordedResource).inputs["wait"]).toBe(true);
    });
});

test("JupyterLab on the RTX 5090 (sm_120) is a build with PyTorch's CUDA 12.8 wheels, from 2025-04-26 on", () => {
    const jupyter = byName(priv)["jupyter"] as RecordedResource;
    const date = /:cuda12-(\d{4}-\d{2}-\d{2})$/.exec(String(jupyter.inputs["image"]))?.[1];
    expect(date).toBeDefined();
    expect((date ?? "") >= "2025-04-26").toBe(true);
    expect(jupyter.inputs["gpus"]).toBe("all");
});

test("the public Ollama serves two requests at a time from a bounded queue", () => {
    const ollama = byName(pub)["ollama"] as RecordedResource;
    expect(ollama.inputs["envs"]).toEqual(expect.arrayContaining(["OLLAMA_NUM_PARALLEL=2", "OLLAMA_MAX_QUEUE=32"]));
});
