// A GPU VM resolved: its GPU object, "2-13" as a CPU list, its inbound rules, the gate's fixed
// settings added, and the files its services ship read once from the repository.

import * as fs from "fs";
import * as path from "path";
import { parseCpuset } from "../../lib/cpuset";
import { PROJECT_ROOT } from "../../lib/paths";
import { EnvironmentPolicy } from "../policy";
import { guestKind } from "../rules/gpuGuests";
import { probed } from "../rules/probe";
import {
    EnvironmentConfig,
    GateSettings,
    GpuGuestKind,
    ImageSource,
    gateSettings,
    InboundRule,
    ModelGateConfig,
    NodeConfig,
    ParsedConfig,
    ServiceConfig,
    ThroughputProbeConfig,
    VmConfig,
} from "../schema";
import { lxcTemplate } from "./container";
import { vmInbound } from "./firewall";
import { GuestNetworkModel, resolveNetwork } from "./network";
import { GpuModel } from "./node";

/** A service with the contents of the files it ships, read once from the repository. */
export interface ServiceModel extends ServiceConfig {
    readonly fileContents: Readonly<Record<string, string>>;
}

/** What a GPU container takes beyond a VM's fields: its template and the host's driver. */
export interface GpuContainerModel {
    /** The Debian standard template of proxmox.majorVersion (the service containers' default). */
    readonly template: ImageSource;
    /** The host's NVIDIA driver version (nodes.<node>.nvidiaDriver.version): the userspace inside matches it. */
    readonly driverVersion: string;
}

export interface VmModel {
    readonly name: string;
    /** A VM (the card by PCI mapping) or a container (the card's device nodes from the host's driver). */
    readonly kind: GpuGuestKind;
    /** With kind "container": its template and the host's driver version. */
    readonly container?: GpuContainerModel;
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
    const kind = guestKind(cfg, vm);
    // The rules (rules/gpuGuests.ts) refused a GPU container on a node without a driver.
    const container =
        kind === "container"
            ? {
                  template: lxcTemplate(undefined, cfg.proxmox.majorVersion),
                  driverVersion: node.nvidiaDriver?.version ?? "",
              }
            : undefined;
    return {
        name,
        kind,
        ...(container ? { container } : {}),
        vmid: vm.vmid,
        node: vm.node,
        ...(vm.description !== undefined ? { description: vm.description } : {}),
        ...(gpu ? { gpu } : {}),
        cores: vm.cores,
        cpus: parseCpuset(vm.cpuset),
        memoryGiB: vm.memoryGiB,
        ...(vm.hugepages && kind === "vm" ? { hugepages: node.memory.hugepageSize } : {}),
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
