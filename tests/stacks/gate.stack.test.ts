// The throughput gate as the stacks wire it: one ModelThroughput per model on its VM's GPU, after
// the VM is started; the models of one card measured one after another, the cards independently.

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { ModelThroughput } from "../../providers/ollama/modelThroughput";
import { RecordedResource } from "../../testing/mockRuntime";
import { rawConfig } from "../helpers/config";
import { ofType, one, runStack } from "../helpers/pulumi";

const gates = (resources: readonly RecordedResource[]) => ofType(resources, ModelThroughput);

test.each([
    {
        stack: "private",
        model: "qwen2.5:14b",
        endpoint: "http://10.10.10.10:11434",
        gpu: { name: "rtx5090", model: "NVIDIA GeForce RTX 5090", vramGiB: 32, memoryBandwidthGBs: 1792 },
        required: { minTokensPerSecond: 50 },
    },
    {
        stack: "public",
        model: "mistral:7b",
        // Public Ollama publishes no port: the proxy's plain route on its trusted entrypoint (8480, not
        // the internet-facing 80), trusted sources only.
        endpoint: "http://10.20.20.10:8480",
        gpu: { name: "rtx3060", model: "NVIDIA GeForce RTX 3060 12GB", vramGiB: 12, memoryBandwidthGBs: 360 },
        // 50 tokens/s is above the 3060's ~48 at the efficiency measured on a GPU: 45% of its roofline.
        required: { minTokensPerSecond: 30, minEfficiency: 0.45 },
    },
])("$stack: $model is gated on $gpu.name, after its VM is started", async (c) => {
    const run = await runStack(c.stack);
    const gate = one(run.resources, ModelThroughput);
    expect(gate.inputs).toMatchObject({
        endpoint: c.endpoint,
        model: c.model,
        gpu: c.gpu,
        ...c.required,
        requireGpu: true,
        numPredict: 128,
        runs: 3,
        removeOnDelete: false,
    });
    expect(gate.inputs["digest"]).toBeUndefined();
    // The dynamic provider travels in the state, serialized by Pulumi.
    expect(gate.inputs["__provider"]).toEqual(expect.stringContaining("exports.handler"));
    // After the step that pins and starts the VM, and after the VM's Ollama container.
    const tune = one(run.resources, command.remote.Command, `${c.stack}-ai-tune`);
    const ollama = one(run.resources, docker.Container, `${c.stack}-ai-workload-ollama`);
    expect(gate.dependencies).toEqual(expect.arrayContaining([tune.urn, ollama.urn]));
    // The container's id identifies the server: a replaced container is measured again.
    expect(gate.inputs["server"]).toBe(`${c.stack}-ai-workload-ollama-id`);
    const parent = run.resources.find((r) => r.urn === gate.parent);
    expect(parent?.type).toBe("ai-dualstack:gate:ThroughputGate");
    expect(run.outputs?.vms[`${c.stack}-ai`]?.throughput).toEqual([
        expect.objectContaining({
            model: c.model,
            gpu: c.gpu.name,
            minTokensPerSecond: c.required.minTokensPerSecond,
        }),
    ]);
});

test("public: the gate also waits for the proxy, whose trusted route its endpoint is", async () => {
    const run = await runStack("public");
    const gate = one(run.resources, ModelThroughput);
    const proxy = one(run.resources, docker.Container, "public-ai-workload-proxy");
    expect(gate.inputs["endpoint"]).toBe("http://10.20.20.10:8480");
    expect(gate.dependencies).toContain(proxy.urn);
});

test("config reaches the gate: digest, thresholds, endpoint, runs, residency, removal", async () => {
    const run = await runStack("public", {
        vms: {
            ...(rawConfig("public").values["vms"] as Record<string, Record<string, unknown>>),
            "public-ai": {
                ...(rawConfig("public").values["vms"] as Record<string, Record<string, unknown>>)["public-ai"],
                models: [
                    {
                        name: "mistral:7b",
                        digest: "sha256:f974a74358d6",
                        minTokensPerSecond: 60,
                        minEfficiency: 0.5,
                        removeOnDelete: true,
                    },
                ],
                throughputGate: { endpoint: "https://ollama.lan", runs: 5, numPredict: 256, requireGpu: false },
            },
        },
    });
    expect(one(run.resources, ModelThroughput).inputs).toMatchObject({
        endpoint: "https://ollama.lan",
        digest: "sha256:f974a74358d6",
        minTokensPerSecond: 60,
        minEfficiency: 0.5,
        removeOnDelete: true,
        runs: 5,
        numPredict: 256,
        requireGpu: false,
    });
});

test("a gate that is off registers nothing and leaves the throughput output empty", async () => {
    const vms = rawConfig("private").values["vms"] as Record<string, Record<string, unknown>>;
    const run = await runStack("private", {
        vms: { ...vms, "private-ai": { ...vms["private-ai"], throughputGate: { enabled: false } } },
    });
    expect(gates(run.resources)).toHaveLength(0);
    expect(run.outputs?.vms["private-ai"]?.throughput).toEqual([]);
});

test("one card measures its models in turn; two cards' gates do not wait for each other", async () => {
    // A private environment with a second card and a second GPU VM (its containers left out to make room).
    const raw = rawConfig("private").values;
    const nodes = structuredClone(raw["nodes"]) as Record<string, { gpus: Record<string, Record<string, unknown>> }>;
    const pve1 = nodes["pve1"] as { gpus: Record<string, Record<string, unknown>> };
    pve1.gpus["rtx3060b"] = {
        ...pve1.gpus["rtx3060"],
        environment: "private",
        pciAddress: "0000:03:00.0",
        iommuGroup: 16,
        functions: [],
    };
    const vms = structuredClone(raw["vms"]) as Record<string, Record<string, unknown>>;
    const first = vms["private-ai"] as Record<string, unknown>;
    first["models"] = [{ name: "qwen2.5:14b" }, { name: "qwen2.5:7b", minTokensPerSecond: 80 }];
    // Room on the P-cores for a second VM.
    first["cores"] = 6;
    first["cpuset"] = "0-5";
    vms["private-ai2"] = {
        ...first,
        vmid: 111,
        gpu: "rtx3060b",
        cores: 2,
        cpuset: "6-7",
        memoryGiB: 8,
        hugepages: false,
        disk: { storage: "tank-private", sizeGiB: 50 },
        network: { bridge: "vmbr1", address: "10.10.10.11/24" },
        models: [{ name: "llama3.2:3b" }],
        // No workload: the gate then defaults to Ollama's port on the VM's address.
        services: {},
    };
    // Without the containers, the backups cover the VM alone and reach the PBS by its fingerprint.
    const backup = {
        pbs: {
            server: "10.10.10.25",
            fingerprint: Array(32).fill("00").join(":"),
            passwordSecret: "pbsPrivatePassword",
        },
        guests: ["private-ai"],
    };
    const run = await runStack("private", { nodes, vms, containers: {}, backup });

    const byName = (n: string) => one(run.resources, ModelThroughput, n);
    const big14 = byName("private-ai-gate-qwen2-5-14b");
    const big7 = byName("private-ai-gate-qwen2-5-7b");
    const small = byName("private-ai2-gate-llama3-2-3b");
    expect(gates(run.resources)).toHaveLength(3);
    // Same card: the second model waits for the first.
    expect(big7.dependencies).toContain(big14.urn);
    expect(big7.inputs).toMatchObject({ minTokensPerSecond: 80, gpu: { name: "rtx5090" } });
    // Other card: no edge to the first card's gates, either way.
    for (const g of [big14, big7]) {
        expect(small.dependencies).not.toContain(g.urn);
        expect(g.dependencies).not.toContain(small.urn);
    }
    expect(small.inputs).toMatchObject({
        endpoint: "http://10.10.10.11:11434",
        gpu: { name: "rtx3060b", memoryBandwidthGBs: 360 },
    });
    expect(small.dependencies).toContain(one(run.resources, command.remote.Command, "private-ai2-tune").urn);
});
