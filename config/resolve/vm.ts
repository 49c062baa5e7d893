// A GPU VM resolved: its GPU object, "2-13" as a CPU list, its inbound rules, the gate's fixed
// settings added, and the files its services ship read once from the repository.

import * as fs from "fs";
import * as path from "path";
import { parseCpuset } from "../../lib/cpuset";
import { PROJECT_ROOT } from "../../lib/paths";
import { EnvironmentPolicy } from "../policy";
import { probed } from "../rules/probe";
import {
    EnvironmentConfig,
    GateSettings,
    gateSettings,
    InboundRule,
    ModelGateConfig,
    NodeConfig,
    ParsedConfig,
    ServiceConfig,
    ThroughputProbeConfig,
    VmConfig,
} from "../schema";
import { vmInbound } from "./firewall";
import { GuestNetworkModel, resolveNetwork } from "./network";
import { GpuModel } from "./node";

/** A service with the contents of the files it ships, read once from the repository. */
export interface ServiceModel extends ServiceConfig {
    readonly fileContents: Readonly<Record<string, string>>;
}

export interface VmModel {
    readonly name: string;
    readonly vmid: number;
    readonly node: string;
    readonly description?: string;
    readonly gpu?: GpuModel;
    readonly cores: number;
    readonly cpus: readonly number[];
    readonly memoryGiB: number;
    /** The node's hugepage size when the VM's RAM is hugepage-backed; undefined otherwise. */
    readonly hugepages?: "2M" | "1G";
    readonly disk: VmConfig["disk"];
    readonly network: GuestNetworkModel;
    readonly image: VmConfig["image"];
    readonly cloudInit: VmConfig["cloudInit"];
    /** Its inbound rules on top of the environment baseline: its published ports, then its own rules. */
    readonly inbound: readonly InboundRule[];
    readonly services: Readonly<Record<string, ServiceModel>>;
    readonly models: readonly ModelGateConfig[];
    /** Undefined when the VM has no GPU or no models, or the gate is off. */
    readonly gate?: GateSettings;
    /** The continuous probe; undefined without a gate or a workload, or when it is off (rules/probe.ts). */
    readonly probe?: ThroughputProbeConfig;
    readonly protect: boolean;
    readonly startOnBoot: boolean;
}

export function resolveVm(
    name: string,
    vm: VmConfig,
    cfg: ParsedConfig,
    policy: EnvironmentPolicy,
    network: EnvironmentConfig["network"] = cfg.environments[policy.environment].network,
): VmModel {
    const node = cfg.nodes[vm.node] as NodeConfig;
    const gpuConfig = vm.gpu === undefined ? undefined : node.gpus[vm.gpu];
    const gpu = gpuConfig && vm.gpu !== undefined ? { ...gpuConfig, name: vm.gpu, node: vm.node } : undefined;
    const gated = gpu !== undefined && vm.models.length > 0 && vm.throughputGate.enabled;
    return {
        name,
        vmid: vm.vmid,
        node: vm.node,
        ...(vm.description !== undefined ? { description: vm.description } : {}),
        ...(gpu ? { gpu } : {}),
        cores: vm.cores,
        cpus: parseCpuset(vm.cpuset),
        memoryGiB: vm.memoryGiB,
        ...(vm.hugepages ? { hugepages: node.memory.hugepageSize } : {}),
        disk: vm.disk,
        network: resolveNetwork(vm.network),
        image: vm.image,
        cloudInit: vm.cloudInit,
        inbound: vmInbound(vm, policy, network),
        services: Object.fromEntries(Object.entries(vm.services).map(([n, s]) => [n, resolveService(s)])),
        models: vm.models,
        ...(gated ? { gate: gateSettings(vm.throughputGate) } : {}),
        ...(probed(vm) ? { probe: vm.throughputGate.probe } : {}),
        protect: vm.protect,
        startOnBoot: vm.startOnBoot,
    };
}

function resolveService(svc: ServiceConfig): ServiceModel {
    const fileContents = Object.fromEntries(
        svc.files.map((f) => [f.target, fs.readFileSync(path.join(PROJECT_ROOT, f.source), "utf8")]),
    );
    return { ...svc, fileContents };
}
