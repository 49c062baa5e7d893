// The throughput gates: once a GPU guest and its Ollama run, each gate times its models on its card.

import * as pulumi from "@pulumi/pulumi";
import { LoadedStack } from "../config/load";
import { VmModel } from "../config/resolve";
import { ThroughputGate, defaultEndpoint } from "../components/gate/throughputGate";
import { GpuGuest } from "../components/gpuVm/gpuPassthroughVm";
import { ComposeWorkload } from "../components/workload/composeWorkload";
import { HostStatuses, pick, waitingFor } from "./wiring";

/** Where the gate reaches a VM's Ollama: the config's endpoint, else the workload's, else Ollama's port. */
function gateEndpoint(vm: VmModel, workload: ComposeWorkload | undefined): pulumi.Input<string> {
    return vm.gate?.endpoint ?? workload?.ollamaEndpoint ?? defaultEndpoint(vm.network.address?.ip ?? "");
}

/**
 * Once a VM and its Ollama run, the gate times its models on its GPU; other GPUs' gates run
 * alongside, since nothing ties one gate to another.
 */
export function buildGates(
    stack: LoadedStack,
    statuses: HostStatuses,
    vms: Record<string, GpuGuest>,
    workloads: Record<string, ComposeWorkload>,
): Record<string, ThroughputGate> {
    const gates: Record<string, ThroughputGate> = {};
    for (const vm of stack.vms.filter((v) => waitingFor(v, statuses) === undefined)) {
        const built = pick(vms, vm.name, "VM");
        if (!vm.gate || !built.gpu) continue;
        const workload = workloads[vm.name];
        const { name, model, vramGiB, memoryBandwidthGBs } = built.gpu;
        gates[vm.name] = new ThroughputGate(`${vm.name}-gate`, {
            vmName: vm.name,
            gpu: { name, model, vramGiB, memoryBandwidthGBs },
            endpoint: gateEndpoint(vm, workload),
            ...(workload?.ollama ? { server: workload.ollama.id } : {}),
            models: vm.models,
            settings: vm.gate,
            // The whole workload: Ollama, and on public the proxy whose route the endpoint is.
            dependsOn: [built.ready, ...(workload ? [workload] : [])],
        });
    }
    return gates;
}
