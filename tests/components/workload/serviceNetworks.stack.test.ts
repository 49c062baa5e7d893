// Who reaches whom inside each VM, read from the planned Docker resources: a service with `clients`
// (rag-answer, searxng) is on a network of its own with exactly its clients and what it depends on,
// off the VM's shared network; every other container stays on the shared one.

import * as docker from "@pulumi/docker";
import { RecordedResource } from "../../../testing/mockRuntime";
import { PlannedStack } from "../../../testing/planStack";
import { ofType, runStack } from "../../helpers/pulumi";

let priv: PlannedStack;
let pub: PlannedStack;

beforeAll(async () => {
    priv = await runStack("private");
    pub = await runStack("public");
}, 60_000);

type Joined = { name: string; aliases?: string[] };
const joined = (c: RecordedResource) => (c.inputs["networksAdvanced"] ?? []) as Joined[];

/** Docker network name → the containers on it (sorted), from the containers' planned networksAdvanced. */
function membership(p: PlannedStack): Record<string, string[]> {
    const members: Record<string, string[]> = Object.fromEntries(
        ofType(p.resources, docker.Network).map((n) => [n.inputs["name"] as string, []]),
    );
    for (const c of ofType(p.resources, docker.Container)) {
        for (const n of joined(c)) {
            // A container on a network the stack does not declare would be a finding of its own.
            expect(Object.keys(members)).toContain(n.name);
            members[n.name]?.push(c.inputs["name"] as string);
            // Each container answers by its service name on every network it joins.
            expect(n.aliases).toEqual([c.inputs["name"]]);
        }
    }
    return Object.fromEntries(Object.entries(members).map(([k, v]) => [k, v.sort()]));
}

const containerNames = (p: PlannedStack) =>
    ofType(p.resources, docker.Container)
        .map((c) => c.inputs["name"] as string)
        .sort();

test("private: rag-answer and searxng share their networks with Open WebUI (and rag-answer's dependencies) alone", () => {
    const members = membership(priv);
    expect(Object.keys(members).sort()).toEqual([
        "private-ai-net",
        "private-ai-rag-answer-net",
        "private-ai-searxng-net",
    ]);
    expect(members["private-ai-rag-answer-net"]).toEqual(["ollama", "open-webui", "qdrant", "rag-answer"]);
    expect(members["private-ai-searxng-net"]).toEqual(["open-webui", "searxng"]);
    // Off the shared network: no other container of the VM reaches them there.
    const isolated = ["rag-answer", "searxng"];
    expect(members["private-ai-net"]).toEqual(containerNames(priv).filter((n) => !isolated.includes(n)));
    for (const other of containerNames(priv).filter((n) => !["open-webui", ...isolated].includes(n))) {
        expect({ other, onSearxng: members["private-ai-searxng-net"]?.includes(other) }).toEqual({
            other,
            onSearxng: false,
        });
    }
});

test("public: searxng shares its network with the chat alone, not with the proxy", () => {
    const members = membership(pub);
    expect(Object.keys(members).sort()).toEqual(["public-ai-net", "public-ai-searxng-net"]);
    expect(members["public-ai-searxng-net"]).toEqual(["chat", "searxng"]);
    expect(members["public-ai-net"]).toEqual(containerNames(pub).filter((n) => n !== "searxng"));
});

test("the isolated networks keep egress and carry their environment's label", () => {
    for (const [p, env] of [
        [priv, "private"],
        [pub, "public"],
    ] as const) {
        for (const n of ofType(p.resources, docker.Network)) {
            expect(n.inputs).toMatchObject({ driver: "bridge", attachable: false });
            // Not internal: SearXNG's queries leave through the VM's egress.
            expect(n.inputs["internal"]).toBeUndefined();
            expect(n.inputs["labels"]).toEqual([{ label: "ai-dualstack.environment", value: env }]);
        }
    }
});

test("the outputs name each isolated service's clients, and no other service has any", () => {
    const clientsOf = (p: PlannedStack, vm: string) =>
        Object.fromEntries(
            Object.entries(p.outputs?.vms[vm]?.services ?? {})
                .filter(([, s]) => s.clients !== undefined)
                .map(([n, s]) => [n, s.clients]),
        );
    expect(clientsOf(priv, "private-ai")).toEqual({ "rag-answer": ["open-webui"], searxng: ["open-webui"] });
    expect(clientsOf(pub, "public-ai")).toEqual({ searxng: ["chat"] });
});
