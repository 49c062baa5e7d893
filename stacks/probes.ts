// The continuous throughput probe of each gated VM, wired after its workload and its gate: the
// probe measures the models the gate pulled, never at the same time as the gate's first run.

import * as pulumi from "@pulumi/pulumi";
import { LoadedStack } from "../config/load";
import { ThroughputGate } from "../components/gate/throughputGate";
import { GpuPassthroughVm } from "../components/gpuVm/gpuPassthroughVm";
import { probeSpec } from "../components/probe/spec";
import { ThroughputProbe } from "../components/probe/throughputProbe";
import { ComposeWorkload } from "../components/workload/composeWorkload";

/** One probe per VM whose gate runs this `up` with the probe on (vms.<vm>.throughputGate.probe). */
export function buildProbes(
    stack: LoadedStack,
    vms: Record<string, GpuPassthroughVm>,
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
        const spec = probeSpec({
            vm: vm.name,
            gpu,
            address: vm.network.address.ip,
            services: vm.services,
            models: vm.models,
            settings: vm.gate,
            probe: vm.probe,
        });
        probes[vm.name] = new ThroughputProbe(`${vm.name}-probe`, {
            spec,
            probe: vm.probe,
            address: vm.network.address.ip,
            sshUser: vm.cloudInit.user,
            sshPrivateKey: stack.secrets.guestSshPrivateKey,
            dependsOn: [workload.ready, gate] as pulumi.Resource[],
        });
    }
    return probes;
}
