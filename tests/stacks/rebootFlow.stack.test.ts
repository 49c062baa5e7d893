// The first `up` on a fresh host: the bootstrap writes what needs a reboot, and the run ends cleanly.
// While the host check reports a reboot pending, the VMs stay stopped and their workloads and gates wait,
// which the outputs say; once the host is ready, the same program brings them in.

import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import { ModelThroughput } from "../../providers/ollama/modelThroughput";
import { PlannedStack, planStack } from "../../testing/planStack";
import { committedPlan } from "../helpers/planCache";
import { ofType, one } from "../helpers/pulumi";

let pending: PlannedStack;
let ready: PlannedStack;

beforeAll(async () => {
    pending = await planStack("private", { hosts: "reboot-pending" });
    ready = await committedPlan("private");
}, 60_000);

test("while a reboot is pending: the bootstrap and the VM, stopped; no workload and no gate", () => {
    expect(one(pending.resources, command.remote.Command, "private-pve1-bootstrap")).toBeDefined();
    const tune = one(pending.resources, command.remote.Command, "private-ai-tune");
    expect(tune.inputs["stdin"]).toContain("stays stopped until the host reboot");
    expect(ofType(pending.resources, docker.Container)).toEqual([]);
    expect(ofType(pending.resources, docker.Provider)).toEqual([]);
    expect(ofType(pending.resources, ModelThroughput)).toEqual([]);
});

test("the outputs say what waits, and why", () => {
    expect(pending.outputs?.hosts["pve1"]).toEqual({
        rebootRequired: true,
        rebootReasons: ["the host bootstrap's settings are not live until the node reboots"],
    });
    const vm = pending.outputs?.vms["private-ai"];
    expect(vm?.waitingFor).toBe(
        "the reboot of pve1 (the host bootstrap's settings are not live until the node reboots); run `pulumi up` again after it",
    );
    expect(vm?.throughput).toEqual([]);
    expect(ready.outputs?.vms["private-ai"]?.waitingFor).toBeUndefined();
});

test("after the reboot the same program starts the VM and brings the workload and the gate", () => {
    expect(one(ready.resources, command.remote.Command, "private-ai-tune").inputs["stdin"]).toContain("qm start 110");
    expect(ofType(ready.resources, docker.Container).length).toBeGreaterThan(5);
    expect(ofType(ready.resources, ModelThroughput)).toHaveLength(1);
    // Everything the pending run created is there unchanged: the reboot adds, it does not replace.
    const names = (p: PlannedStack) => new Set(p.resources.map((r) => `${r.type}::${r.name}`));
    const before = names(pending);
    const after = names(ready);
    expect([...before].filter((n) => !after.has(n))).toEqual([]);
});
