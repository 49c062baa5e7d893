// The continuous throughput probe of each gated VM, wired after its workload and its gate: the
// probe measures the models the gate pulled, never at the same time as the gate's first run, and
// compares them with the rate the gate required (its outputs).

import * as pulumi from "@pulumi/pulumi";
import { LoadedStack } from "../config/load";
import { ThroughputGate } from "../components/gate/throughputGate";
import { GpuGuest } from "../components/gpuVm/gpuPassthroughVm";
import { GateRequirement } from "../components/probe/spec";
import { ThroughputProbe } from "../components/probe/throughputProbe";
import { ComposeWorkload } from "../components/workload/composeWorkload";

/** What the gate recorded for each of its models: the rate it required and the card's ceiling. */
function gated(gate: ThroughputGate): pulumi.Output<Record<string, GateRequirement>> {
    const entries = Object.entries(gate.models).map(([model, g]) =>
        pulumi
            .all([g.requiredTokensPerSecond, g.ceilingTokensPerSecond])
            .apply(([requiredTokensPerSecond, ceilingTokensPerSecond]): [string, GateRequirement] => [
                model,
                { requiredTokensPerSecond, ceilingTokensPerSecond },
            ]),
    );
    return pulumi.all(entries).apply((e) => Object.fromEntries(e));
}

/** One probe per VM whose gate runs this `up` with the probe on (vms.<vm>.throughputGate.probe). */
export function buildProbes(
    stack: LoadedStack,
    vms: Record<string, GpuGuest>,
    workloads: Record<string, ComposeWorkload>,
    gates: Record<string, ThroughputGate>,
): Record<string, ThroughputProbe> {
    const probes: Record<string, ThroughputProbe> = {};
    for (const vm of stack.vms) {
        const gpu = vms[vm.name]?.gpu;
        const gate = gates[vm.name];
        const workload = workloads[vm.name];
        // The config rules require a static address and an Ollama service of a probed VM.
        if (!vm.probe || !vm.gate || !gpu || !gate || !workload || !vm.network.address) continue;
        probes[vm.name] = new ThroughputProbe(`${vm.name}-probe`, {
            spec: {
                vm: vm.name,
                gpu,
                address: vm.network.address.ip,
                services: vm.services,
                models: vm.models,
                settings: vm.gate,
                probe: vm.probe,
            },
            gated: gated(gate),
            sshUser: vm.cloudInit.user,
            sshPrivateKey: stack.secrets.guestSshPrivateKey,
            dependsOn: [workload.ready, gate] as pulumi.Resource[],
        });
    }
    return probes;
}
