// Builds one environment from the parsed config: what both stacks build the same way. Each stack
// owns only its environment's objects (mirror, bridge, PCI mapping, vfio fragment, guests, files);
// host-wide settings are written idempotently by the host bootstrap of either stack.

import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "../config/load";
import { EnvironmentName, NodeConfig } from "../config/schema";
import { ProxmoxHost } from "../components/host";
import { bootstrapPlan } from "../components/hostBootstrap";
import { GpuPassthroughVm, GpuSummary } from "../components/gpuVm";
import { GuestImages } from "../components/images";
import { Network } from "../components/network";
import { ServiceLxc } from "../components/serviceLxc";
import { StorageMirror } from "../components/storage";
import { defaultEndpoint, ModelFigures, ThroughputGate } from "../components/throughputGate";
import { LxcRole } from "../config/schema";
import { workloadSpec } from "../components/compose";
import { ComposeWorkload } from "../components/workload";
import { DataService } from "../components/dataService";
import { addressOf } from "../config/net";

/** How an environment may be reached; the stacks differ here and in nothing else structural. */
export interface EnvironmentPolicy {
    environment: EnvironmentName;
    /** One line for descriptions and the plan header. */
    exposure: string;
}

export interface VmOutput {
    vmid: pulumi.Output<number>;
    node: string;
    address: pulumi.Output<string | undefined>;
    gpu: GpuSummary | null;
    /** Service name → its image and where people reach it (vms.<vm>.services). */
    services: Record<string, { image: string; urls: string[] }>;
    /** Where the machine running `pulumi up` reaches the VM's Ollama API; absent without one. */
    ollamaEndpoint?: pulumi.Output<string>;
    /** The throughput gate's figures per model (empty without models or with the gate off). */
    throughput: ModelFigures[];
}

export interface ServiceOutput {
    role: LxcRole;
    vmid: pulumi.Output<number>;
    node: string;
    address: pulumi.Output<string | undefined>;
    endpoints: pulumi.Output<string[]>;
    /** What the data-layer setup installs and configures in it (postgres, redis). */
    setup?: string;
}

export interface EnvironmentOutputs {
    environment: EnvironmentName;
    exposure: string;
    vms: Record<string, VmOutput>;
    services: Record<string, ServiceOutput>;
    hosts: Record<string, { rebootRequired: pulumi.Output<boolean>; rebootReasons: pulumi.Output<string[]> }>;
}

/** The nodes an environment touches: where it owns hardware or runs guests. */
export function nodesOf(cfg: StackConfig): string[] {
    const env = cfg.environment;
    const owns = (n: NodeConfig) =>
        Object.values(n.gpus).some((g) => g.environment === env) ||
        Object.values(n.mirrors).some((m) => m.environment === env) ||
        Object.values(n.bridges).some((b) => b.environment === env);
    const guests = new Set([...Object.values(cfg.vms), ...Object.values(cfg.containers)].map((g) => g.node));
    return Object.entries(cfg.nodes)
        .filter(([name, node]) => owns(node) || guests.has(name))
        .map(([name]) => name);
}

function pick<T extends { environment: EnvironmentName }>(
    items: Record<string, T>,
    env: EnvironmentName,
): [string, T][] {
    return Object.entries(items).filter(([, item]) => item.environment === env);
}

export function buildEnvironment(cfg: StackConfig, policy: EnvironmentPolicy): EnvironmentOutputs {
    const env = cfg.environment;
    if (env !== policy.environment) {
        throw new Error(`the ${policy.environment} stack builder got the ${env} configuration`);
    }
    const envCfg = cfg.environments[env];
    const nodeNames = nodesOf(cfg);

    const hosts: Record<string, ProxmoxHost> = {};
    const mirrors: Record<string, StorageMirror> = {};
    for (const nodeName of nodeNames) {
        const node = cfg.nodes[nodeName] as NodeConfig;
        const host = new ProxmoxHost(`${env}-${nodeName}`, {
            nodeName,
            node,
            proxmox: cfg.proxmox,
            apiToken: cfg.secrets.proxmoxApiToken,
            sshPrivateKey: cfg.secrets.sshPrivateKey,
            bootstrap: bootstrapPlan(node, env, cfg.proxmox),
        });
        hosts[nodeName] = host;
        for (const [storageId, mirror] of pick(node.mirrors, env)) {
            mirrors[`${nodeName}/${storageId}`] = new StorageMirror(
                `${env}-${storageId}`,
                { nodeName, storageId, mirror },
                { provider: host.provider },
            );
        }
    }

    // Bridges reload the node's network: only after the check found no pending change there.
    const network = new Network(`${env}-network`, {
        environment: env,
        config: envCfg,
        nodes: nodeNames.map((nodeName) => ({
            nodeName,
            provider: (hosts[nodeName] as ProxmoxHost).provider,
            bridges: Object.fromEntries(pick((cfg.nodes[nodeName] as NodeConfig).bridges, env)),
        })),
        dependsOn: Object.values(hosts).map((h) => h.check),
    });

    const images: Record<string, GuestImages> = {};
    for (const nodeName of nodeNames) {
        const vms = Object.values(cfg.vms).filter((v) => v.node === nodeName);
        const cts = Object.values(cfg.containers).filter((c) => c.node === nodeName);
        if (vms.length + cts.length === 0) continue;
        images[nodeName] = new GuestImages(
            `${env}-${nodeName}-images`,
            {
                environment: env,
                nodeName,
                datastore: cfg.proxmox.filesDatastore,
                vmImages: vms.map((v) => v.image),
                templates: cts.map((c) => c.template),
                // The bootstrap enables the import and vztmpl content types these need.
                dependsOn: [(hosts[nodeName] as ProxmoxHost).bootstrap],
            },
            { provider: (hosts[nodeName] as ProxmoxHost).provider },
        );
    }

    const storageOf = (nodeName: string, storageId: string) =>
        (mirrors[`${nodeName}/${storageId}`] as StorageMirror).storageId;
    const bridgeOf = (nodeName: string, bridge: string) =>
        network.bridges[nodeName]?.[bridge]?.name.apply((n) => n ?? bridge) ?? pulumi.output(bridge);

    const services: Record<string, ServiceOutput> = {};
    /** The data layer's setup commands: the VMs' services (Open WebUI on PostgreSQL) wait for them. */
    const dataSetups: pulumi.Resource[] = [];
    for (const [ctName, ct] of Object.entries(cfg.containers)) {
        const host = hosts[ct.node] as ProxmoxHost;
        const built = new ServiceLxc(
            ctName,
            {
                environment: env,
                nodeName: ct.node,
                container: ct,
                storageId: storageOf(ct.node, ct.disk.storage),
                templateFileId: (images[ct.node] as GuestImages).template(ct.template.url),
                bridge: bridgeOf(ct.node, ct.network.bridge),
                gateway: envCfg.network.gateway,
                dns: envCfg.network.dns,
                securityGroup: network.securityGroup.name.apply((n) => n ?? network.securityGroupName),
            },
            { provider: host.provider },
        );
        // PostgreSQL and Redis inside their containers, set up over SSH once the container runs.
        const data =
            (ct.postgres || ct.redis) && ct.network.address !== "dhcp"
                ? new DataService(`${ctName}-data`, {
                      container: ct,
                      address: addressOf(ct.network.address),
                      sshPrivateKey: cfg.secrets.sshPrivateKey,
                      secrets: cfg.secrets.services,
                      dependsOn: [built.container],
                  })
                : undefined;
        if (data) dataSetups.push(data.setup);
        services[ctName] = {
            role: ct.role,
            vmid: built.vmId,
            node: ct.node,
            address: built.address,
            endpoints: built.endpoints,
            ...(data ? { setup: data.description } : {}),
        };
    }

    const vms: Record<string, VmOutput> = {};
    /** The containers of each VM; what must wait for a VM's Ollama depends on workloads[vm].ollama. */
    const workloads: Record<string, ComposeWorkload> = {};
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        const node = cfg.nodes[vm.node] as NodeConfig;
        const host = hosts[vm.node] as ProxmoxHost;
        const gpu =
            vm.gpu === undefined
                ? undefined
                : { name: vm.gpu, config: node.gpus[vm.gpu] as NonNullable<NodeConfig["gpus"][string]> };
        const built = new GpuPassthroughVm(
            vmName,
            {
                environment: env,
                nodeName: vm.node,
                vm,
                ...(gpu ? { gpu } : {}),
                storageId: storageOf(vm.node, vm.disk.storage),
                filesDatastore: cfg.proxmox.filesDatastore,
                imageFileId: (images[vm.node] as GuestImages).vmImage(vm.image.url),
                hugepageSize: node.memory.hugepageSize,
                bridge: bridgeOf(vm.node, vm.network.bridge),
                gateway: envCfg.network.gateway,
                dns: envCfg.network.dns,
                securityGroup: network.securityGroup.name.apply((n) => n ?? network.securityGroupName),
                host: { connection: host.connection, ready: host.ready },
                // The bootstrap enables snippets on the datastore; the check must pass first.
                dependsOn: [host.bootstrap, host.check],
            },
            { provider: host.provider },
        );
        let workload: ComposeWorkload | undefined;
        if (Object.keys(vm.services).length > 0) {
            workload = new ComposeWorkload(`${vmName}-workload`, {
                spec: workloadSpec(vmName, vm, env, envCfg.network.trustedSources),
                sshUser: vm.cloudInit.user,
                sshPrivateKey: cfg.secrets.sshPrivateKey,
                gpu: built.gpu !== undefined,
                secrets: cfg.secrets.services,
                // Docker answers once the tune step has started the VM and first boot is done.
                dependsOn: [built.tune, ...dataSetups],
            });
            workloads[vmName] = workload;
        }
        // Once the VM and its Ollama run, the gate times its models on its GPU; other GPUs' gates
        // run alongside. The endpoint: the config's, else the workload's, else Ollama's port on the VM.
        const gate =
            built.gpu && vm.models.length > 0 && vm.throughputGate.enabled
                ? new ThroughputGate(`${vmName}-gate`, {
                      vmName,
                      gpu: {
                          name: built.gpu.name,
                          model: built.gpu.model,
                          vramGiB: built.gpu.vramGiB,
                          memoryBandwidthGBs: built.gpu.memoryBandwidthGBs,
                      },
                      endpoint:
                          vm.throughputGate.endpoint ?? workload?.ollamaEndpoint ?? defaultEndpoint(vm.network.address),
                      ...(workload?.ollama ? { server: workload.ollama.id } : {}),
                      models: vm.models,
                      settings: vm.throughputGate,
                      // The whole workload: Ollama, and on public the proxy whose route the endpoint is.
                      dependsOn: [built.tune, ...(workload ? [workload] : [])],
                  })
                : undefined;
        vms[vmName] = {
            vmid: built.vmId,
            node: vm.node,
            address: built.address,
            gpu: built.gpu ?? null,
            services: Object.fromEntries(
                Object.entries(vm.services).map(([svcName, svc]) => [
                    svcName,
                    { image: svc.image, urls: workload?.urls[svcName] ?? [] },
                ]),
            ),
            ...(workload?.ollamaEndpoint ? { ollamaEndpoint: workload.ollamaEndpoint } : {}),
            throughput: gate?.figures ?? [],
        };
    }

    return {
        environment: env,
        exposure: policy.exposure,
        vms,
        services,
        hosts: Object.fromEntries(
            Object.entries(hosts).map(([n, h]) => [
                n,
                { rebootRequired: h.rebootRequired, rebootReasons: h.rebootReasons },
            ]),
        ),
    };
}
