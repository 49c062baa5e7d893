// The continuous probe as the stacks wire it: one per gated VM, installed over SSH as the VM's login
// user after the VM's first boot and its gate, with the spec rendered from the VM's gate settings and
// the rate the gate required (its output; the mocks hold no model, so no ceiling, and the gate's maths
// give minTokensPerSecond: testing/mockRuntime.ts).

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ModelThroughput } from "../../providers/ollama/modelThroughput";
import { RecordedResource } from "../../testing/mockRuntime";
import { planStack } from "../../testing/planStack";
import { rawConfig } from "../helpers/config";
import { one, runStack } from "../helpers/pulumi";

/** The gate's required rate and ceiling, as its outputs resolved in the plan. */
async function gateOutputs(gate: RecordedResource): Promise<Record<string, unknown>> {
    const g = gate.resource as ModelThroughput;
    const known = (o: pulumi.Output<number>) => new Promise<number>((resolve) => o.apply(resolve));
    return {
        requiredTokensPerSecond: await known(g.requiredTokensPerSecond),
        ceilingTokensPerSecond: await known(g.ceilingTokensPerSecond),
    };
}

/** The spec the install script carries (base64 in its header). */
function specOf(install: RecordedResource): Record<string, unknown> {
    const m = /^AIDS_SPEC_B64='([^']*)'$/m.exec(String(install.inputs["stdin"]));
    if (!m) throw new Error("no spec in the install script");
    return JSON.parse(Buffer.from(m[1] as string, "base64").toString("utf8")) as Record<string, unknown>;
}

test.each([
    {
        stack: "private",
        model: "qwen2.5:14b",
        gpu: "rtx5090",
        required: 50,
        ollama: { url: "http://10.10.10.10:11434" },
    },
    // Public Ollama publishes no port and its proxy route admits only the trusted networks; its
    // threshold is a share of the 3060's roofline with a floor of 30: with no ceiling known, the floor.
    {
        stack: "public",
        model: "mistral:7b",
        gpu: "rtx3060",
        required: 30,
        ollama: { container: "ollama", port: 11434 },
    },
])("$stack: the probe measures $model on $gpu as the gate does, after the gate", async (c) => {
    // Planned afresh, not from the shared plan: the gate's outputs are read from its live resource.
    const run = await planStack(c.stack);
    const vm = `${c.stack}-ai`;
    const install = one(run.resources, command.remote.Command, `${vm}-probe-install`);
    expect(install.inputs["connection"]).toMatchObject({
        host: c.stack === "private" ? "10.10.10.10" : "10.20.20.10",
        user: "ubuntu",
    });
    expect(install.inputs["create"]).toBe("sudo -n bash -s");
    expect(install.inputs["update"]).toBe("sudo -n bash -s");
    expect(install.inputs["delete"]).toMatch(/^printf %s [A-Za-z0-9+/=]+ \| base64 -d \| sudo -n bash$/);
    const gate = one(run.resources, ModelThroughput);
    const ready = one(run.resources, command.remote.Command, `${vm}-workload-docker-ready`);
    expect(install.dependencies).toEqual(expect.arrayContaining([ready.urn]));
    // The gate component stands for its models: the probe waits for every one of them.
    expect(install.dependencies).toContain(gate.urn);
    // The rate and ceiling are the gate's outputs (here the mocks', by the gate's own maths).
    const gated = { requiredTokensPerSecond: c.required, ceilingTokensPerSecond: 0 };
    expect(await gateOutputs(gate)).toEqual(gated);
    expect(specOf(install)).toEqual({
        vm,
        gpu: { name: c.gpu },
        ollama: c.ollama,
        textfile: "/var/lib/ai-dualstack/textfile/aidualstack_throughput.prom",
        runs: 3,
        timeoutSeconds: 300,
        attempts: 6,
        backoffMs: 1000,
        models: [
            {
                name: c.model,
                ...gated,
                request: {
                    model: c.model,
                    prompt: gate.inputs["prompt"],
                    stream: true,
                    options: { temperature: 0, seed: gate.inputs["seed"], num_predict: gate.inputs["numPredict"] },
                },
            },
        ],
    });
    expect(String(install.inputs["stdin"])).toContain("AIDS_TIMER_B64=");
});

type Vms = Record<string, Record<string, unknown>>;
const withGate = (stack: string, gate: Record<string, unknown>) => {
    const vms = rawConfig(stack).values["vms"] as Vms;
    return { vms: { ...vms, [`${stack}-ai`]: { ...vms[`${stack}-ai`], throughputGate: gate } } };
};

test("interval, folder, digest and threshold reach the probe", async () => {
    const vms = structuredClone(rawConfig("private").values["vms"]) as Vms;
    const vm = vms["private-ai"] as Record<string, unknown> & { services: Vms };
    vm["models"] = [{ name: "qwen2.5:14b", digest: "sha256:7cdf5a0187d5", minTokensPerSecond: 70 }];
    vm["throughputGate"] = { runs: 5, probe: { intervalMinutes: 15, textfileDirectory: "/srv/metrics" } };
    (vm.services["node-exporter"] as Record<string, unknown>)["command"] = [
        "--path.rootfs=/host",
        "--collector.textfile.directory=/host/srv/metrics",
    ];
    const run = await runStack("private", { vms });
    const install = one(run.resources, command.remote.Command, "private-ai-probe-install");
    const spec = specOf(install);
    expect(spec).toMatchObject({ runs: 5, textfile: "/srv/metrics/aidualstack_throughput.prom" });
    expect(spec["models"]).toEqual([
        expect.objectContaining({ name: "qwen2.5:14b", digest: "sha256:7cdf5a0187d5", requiredTokensPerSecond: 70 }),
    ]);
    const timer = /^AIDS_TIMER_B64='([^']*)'$/m.exec(String(install.inputs["stdin"]))?.[1] ?? "";
    expect(Buffer.from(timer, "base64").toString()).toContain("OnUnitActiveSec=15min\n");
});

test.each([
    { what: "the probe off", gate: { probe: { enabled: false } } },
    { what: "the gate off", gate: { enabled: false } },
])("$what: no probe is installed", async (c) => {
    const run = await runStack("private", withGate("private", c.gate));
    expect(run.resources.filter((r) => r.type === "ai-dualstack:probe:ThroughputProbe")).toHaveLength(0);
});
