// Wires one environment's components from its StackModel. Each stack owns only its environment's
// objects (mirror, bridge, PCI mapping, vfio fragment, guests, files); host-wide settings are written
// idempotently by the host bootstrap of either stack. Wiring only: every fact was resolved before.

import * as pulumi from "@pulumi/pulumi";
import { LoadedStack } from "../config/load";
import { NodeModel } from "../config/resolve";
import { GpuContainer } from "../components/gpuContainer/gpuContainer";
import { GpuGuest, GpuPassthroughVm } from "../components/gpuVm/gpuPassthroughVm";
import { bootstrapPlan, runnerSources } from "../components/host/bootstrap";
import { ProxmoxAccess, accessScope, environmentPool } from "../components/host/access";
import { ProxmoxHost } from "../components/host/proxmoxHost";
import { Network } from "../components/network/network";
import { DataSetup } from "../components/serviceLxc/dataSetup";
import { ServiceLxc } from "../components/serviceLxc/serviceLxc";
import { GuestImages } from "../components/storage/guestImages";
import { StorageMirror } from "../components/storage/storageMirror";
import { ComposeWorkload } from "../components/workload/composeWorkload";
import { workloadSpec } from "../components/workload/spec";
import { buildMonitoring } from "./monitoring";
import { buildRoleSetup } from "./roleSetups";
import { buildProbes } from "./probes";
import { buildPreviewAccess } from "./preview";
import { backupMountPoints, buildBackups } from "./backups";
import { dataPasswords, secretEnvironment } from "./secrets";
import { LxcOutput, EnvironmentOutputs, vmOutput } from "./outputs";
import { buildGates } from "./gates";
import { Containers, HostStatuses, Hosts, pick, waitingFor } from "./wiring";
export type { HostStatuses } from "./wiring";

/** Per node: the Proxmox provider, the host bootstrap, and the environment's mirrors. */
export function buildHosts(stack: LoadedStack, statuses: HostStatuses): Hosts {
    const env = stack.environment;
    const hosts: Record<string, ProxmoxHost> = {};
    const storage: Record<string, pulumi.Output<string>> = {};
    for (const node of stack.nodes) {
        const host = new ProxmoxHost(`${env}-${node.name}`, {
            nodeName: node.name,
            ssh: node.ssh,
            api: { endpoint: stack.proxmox.endpoint, insecure: stack.proxmox.insecure },
            apiToken: stack.secrets.proxmoxApiToken,
            sshPrivateKey: stack.secrets.sshPrivateKey,
            bootstrap: bootstrapPlan(node, env, stack.proxmox, runnerSources(stack.containers)),
            status: pick(statuses, node.name, "host status"),
        });
        hosts[node.name] = host;
        for (const mirror of node.mirrors) {
            const built = new StorageMirror(
                `${env}-${mirror.storageId}`,
                { nodeName: node.name, mirror },
                { provider: host.provider },
            );
            storage[`${node.name}/${mirror.storageId}`] = built.storageId;
        }
    }
    const first = stack.nodes[0] ? hosts[stack.nodes[0].name] : undefined;
    const pool = environmentPool(env, { provider: first?.provider });
    return { hosts, storage, poolId: pool.poolId };
}

/** With proxmox.apiAccess "managed": the environment's own roles, user and token, each scoped to what it owns. */
export function buildAccess(stack: LoadedStack, { hosts }: Hosts): ProxmoxAccess | undefined {
    const first = stack.nodes[0];
    if (stack.proxmox.apiAccess !== "managed" || !first) return undefined;
    return new ProxmoxAccess(
        `${stack.environment}-access`,
        { scope: accessScope(stack) },
        { provider: pick(hosts, first.name, "host").provider },
    );
}

/** Bridges reload the node's network: the host check refused a node with pending changes. */
export function buildNetwork(stack: LoadedStack, { hosts }: Hosts): Network {
    return new Network(`${stack.environment}-network`, {
        environment: stack.environment,
        baseline: stack.policy.baselineRules(stack.network),
        ipsets: stack.policy.ipsets,
        nodes: stack.nodes.map((node: NodeModel) => ({
            nodeName: node.name,
            provider: pick(hosts, node.name, "host").provider,
            bridges: node.bridges,
        })),
    });
}

/** What every guest is wired to: its node's images, storage, bridge and the baseline group. */
export interface GuestWiring {
    readonly stack: LoadedStack;
    readonly hosts: Hosts;
    readonly network: Network;
    readonly images: Record<string, GuestImages>;
}

/** The cloud images and templates each node's guests need, downloaded once per node. */
export function buildImages(stack: LoadedStack, { hosts }: Hosts): Record<string, GuestImages> {
    const images: Record<string, GuestImages> = {};
    for (const node of stack.nodes) {
        const guests = stack.vms.filter((v) => v.node === node.name);
        const vms = guests.filter((v) => v.kind === "vm");
        const gpuLxcs = guests.flatMap((v) => (v.container ? [v.container.template] : []));
        const lxcs = stack.containers.filter((c) => c.node === node.name);
        if (guests.length + lxcs.length === 0) continue;
        const host = pick(hosts, node.name, "host");
        images[node.name] = new GuestImages(
            `${stack.environment}-${node.name}-images`,
            {
                environment: stack.environment,
                nodeName: node.name,
                datastore: stack.proxmox.filesDatastore,
                vmImages: vms.map((v) => v.image),
                templates: [...lxcs.map((c) => c.template), ...gpuLxcs],
                // The bootstrap enables the import and vztmpl content types these need.
                dependsOn: [host.bootstrap],
            },
            { provider: host.provider },
        );
    }
    return images;
}

function bridgeOf(network: Network, node: string, bridge: string): pulumi.Output<string> {
    return network.bridges[node]?.[bridge]?.name.apply((n) => n ?? bridge) ?? pulumi.output(bridge);
}

function securityGroupOf(network: Network): pulumi.Output<string> {
    return network.securityGroup.name.apply((n) => n ?? network.securityGroupName);
}

/** The service containers, and PostgreSQL and Redis set up inside theirs once they run. */
export function buildContainers(w: GuestWiring): Containers {
    const { stack } = w;
    const outputs: Record<string, LxcOutput> = {};
    const dataSetups: pulumi.Resource[] = [];
    const starts: Record<string, pulumi.Resource> = {};
    const ready: Record<string, pulumi.Resource[]> = {};
    for (const lxc of stack.containers) {
        const built = new ServiceLxc(
            lxc.name,
            {
                environment: stack.environment,
                lxc,
                storageId: pick(w.hosts.storage, `${lxc.node}/${lxc.storage}`, "storage"),
                poolId: w.hosts.poolId,
                templateFileId: pick(w.images, lxc.node, "image set").template(lxc.template.url),
                bridge: bridgeOf(w.network, lxc.node, lxc.network.bridge),
                gateway: stack.network.gateway,
                dns: stack.network.dns,
                securityGroup: securityGroupOf(w.network),
                firewallPolicy: stack.policy,
                hostConnection: pick(w.hosts.hosts, lxc.node, "host").connection,
                mountPoints: backupMountPoints(stack, lxc.name, w.hosts.storage, lxc.node),
            },
            { provider: pick(w.hosts.hosts, lxc.node, "host").provider },
        );
        const passwords = dataPasswords(stack, lxc);
        const data =
            passwords && lxc.network.address
                ? new DataSetup(`${lxc.name}-data`, {
                      lxc,
                      address: lxc.network.address.ip,
                      sshPrivateKey: stack.secrets.guestSshPrivateKey,
                      passwords,
                      dependsOn: [built.start],
                  })
                : undefined;
        if (data) dataSetups.push(data.setup);
        const role = buildRoleSetup(stack, lxc, built, pick(w.hosts.hosts, lxc.node, "host").connection);
        // What comes next in the container (the monitoring's node-exporter) waits for its role's set-up.
        starts[lxc.name] = role?.done ?? built.start;
        // Logins to the container (the backup timers) wait for everything installed in it.
        ready[lxc.name] = [built.start, ...(data ? [data.setup] : []), ...(role ? [role.done] : [])];
        outputs[lxc.name] = {
            role: lxc.role,
            vmid: built.vmId,
            node: lxc.node,
            address: built.address,
            endpoints: role ? built.endpoints.apply((e) => [...e, ...role.endpoints]) : built.endpoints,
            ...(data ? { setup: data.description } : {}),
            ...(role ? { setup: role.setup } : {}),
            ...(role?.vpnClients ? { vpnClients: role.vpnClients } : {}),
        };
    }
    return { outputs, ready, dataSetups, starts };
}

/** The GPU guests: VMs started by their tune step, containers given their card and set up, once the host is ready. */
export function buildGpuVms(w: GuestWiring): Record<string, GpuGuest> {
    const { stack } = w;
    const vms: Record<string, GpuGuest> = {};
    for (const vm of stack.vms) {
        const host = pick(w.hosts.hosts, vm.node, "host");
        const wiring = {
            environment: stack.environment,
            storageId: pick(w.hosts.storage, `${vm.node}/${vm.disk.storage}`, "storage"),
            poolId: w.hosts.poolId,
            bridge: bridgeOf(w.network, vm.node, vm.network.bridge),
            gateway: stack.network.gateway,
            dns: stack.network.dns,
            securityGroup: securityGroupOf(w.network),
            firewallPolicy: stack.policy,
            host: { connection: host.connection, ready: host.ready },
            // The bootstrap enables snippets and templates on the datastore, and installs the driver.
            dependsOn: [host.bootstrap],
        };
        const images = pick(w.images, vm.node, "image set");
        vms[vm.name] = vm.container
            ? new GpuContainer(
                  vm.name,
                  {
                      ...wiring,
                      guest: vm,
                      templateFileId: images.template(vm.container.template.url),
                      sshPrivateKey: stack.secrets.guestSshPrivateKey,
                  },
                  { provider: host.provider },
              )
            : new GpuPassthroughVm(
                  vm.name,
                  {
                      ...wiring,
                      vm,
                      filesDatastore: stack.proxmox.filesDatastore,
                      imageFileId: images.vmImage(vm.image.url),
                  },
                  { provider: host.provider },
              );
    }
    return vms;
}

/** Each VM's containers, once the tune step has started it and the data layer is set up. */
export function buildWorkloads(
    stack: LoadedStack,
    statuses: HostStatuses,
    vms: Record<string, GpuGuest>,
    dataSetups: readonly pulumi.Resource[],
): Record<string, ComposeWorkload> {
    const workloads: Record<string, ComposeWorkload> = {};
    // A VM whose host waits for a reboot stays stopped: its containers and gates come after it.
    const running = stack.vms.filter((v) => waitingFor(v, statuses) === undefined);
    for (const vm of running.filter((v) => Object.keys(v.services).length > 0)) {
        const built = pick(vms, vm.name, "VM");
        workloads[vm.name] = new ComposeWorkload(`${vm.name}-workload`, {
            // The monitoring host, as a /32, also passes the trusted-only routes to exporters (public's metrics).
            spec: workloadSpec(
                vm,
                stack.environment,
                stack.network.trustedSources,
                stack.monitoring ? [stack.monitoring.source] : [],
            ),
            sshUser: vm.cloudInit.user,
            sshPrivateKey: stack.secrets.guestSshPrivateKey,
            ...(stack.dockerSshKeyFile !== undefined ? { dockerSshKeyFile: stack.dockerSshKeyFile } : {}),
            gpu: built.gpu !== undefined,
            cloudInit: vm.kind === "vm",
            secretEnvironment: secretEnvironment(stack, vm),
            // Docker answers once the tune step has started the VM and first boot is done, or once
            // the container's set-up ran.
            dependsOn: [built.ready, ...dataSetups],
        });
    }
    return workloads;
}

/** The whole environment, and its outputs. */
export function buildEnvironment(stack: LoadedStack, statuses: HostStatuses): EnvironmentOutputs {
    const hosts = buildHosts(stack, statuses);
    const network = buildNetwork(stack, hosts);
    const wiring: GuestWiring = { stack, hosts, network, images: buildImages(stack, hosts) };
    const containers = buildContainers(wiring);
    const vms = buildGpuVms(wiring);
    const workloads = buildWorkloads(stack, statuses, vms, containers.dataSetups);
    const gates = buildGates(stack, statuses, vms, workloads);
    buildProbes(stack, vms, workloads, gates);
    const access = buildAccess(stack, hosts);
    const preview = buildPreviewAccess(stack, hosts);
    const monitoring = buildMonitoring(stack, hosts, containers.starts, containers.dataSetups);
    const backup = buildBackups(stack, hosts, containers, vms, workloads);
    return {
        environment: stack.environment,
        exposure: stack.policy.exposure,
        vms: Object.fromEntries(
            stack.vms.map((vm) => [
                vm.name,
                vmOutput(vm, waitingFor(vm, statuses), pick(vms, vm.name, "VM"), workloads[vm.name], gates[vm.name]),
            ]),
        ),
        containers: containers.outputs,
        hosts: Object.fromEntries(
            Object.entries(hosts.hosts).map(([n, h]) => [
                n,
                { rebootRequired: h.rebootRequired, rebootReasons: [...h.rebootReasons] },
            ]),
        ),
        ...(monitoring ? { monitoring } : {}),
        ...(access ? { access: { tokenId: access.tokenId, apiToken: access.apiToken } } : {}),
        ...(preview
            ? {
                  preview: {
                      tokenId: preview.tokenId,
                      ...(preview.apiToken ? { apiToken: preview.apiToken } : {}),
                      sshPrivateKey: preview.sshPrivateKey,
                  },
              }
            : {}),
        ...(backup ? { backup } : {}),
    };
}
