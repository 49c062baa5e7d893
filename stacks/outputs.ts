// The stack outputs: what `pulumi stack output` shows and the offline plan prints.

import * as pulumi from "@pulumi/pulumi";
import { EnvironmentName, LxcRole } from "../config/schema";
import { VmModel } from "../config/resolve";
import { ModelFigures, ThroughputGate } from "../components/gate/throughputGate";
import { GpuGuest, GpuSummary } from "../components/gpuVm/gpuPassthroughVm";
import { ComposeWorkload } from "../components/workload/composeWorkload";
import { internalRoutes, InternalRoute } from "../components/workload/spec";

export interface VmOutput {
    vmid: pulumi.Output<number>;
    node: string;
    address: pulumi.Output<string | undefined>;
    gpu: GpuSummary | null;
    /**
     * Service name → its image, where people reach it, and for a service with `clients` the only
     * services of the VM that reach it (vms.<vm>.services).
     */
    services: Record<string, { image: string; urls: string[]; clients?: string[] }>;
    /** Services that reach another of the VM over its network (Open WebUI's OpenAI backends). */
    routes: InternalRoute[];
    /** Where the machine running `pulumi up` reaches the VM's Ollama API; absent without one. */
    ollamaEndpoint?: pulumi.Output<string>;
    /** The throughput gate's figures per model (empty without models or with the gate off). */
    throughput: ModelFigures[];
    /**
     * Set while the VM waits for its host's reboot: its workload and gates are left out of this
     * `up` and come with the first `up` after the reboot.
     */
    waitingFor?: string;
}

/** A service container (an LXC: PostgreSQL, Redis, security, CI/CD, monitoring, backup). */
export interface LxcOutput {
    role: LxcRole;
    vmid: pulumi.Output<number>;
    node: string;
    address: pulumi.Output<string | undefined>;
    endpoints: pulumi.Output<string[]>;
    /** What its set-up installs and configures in it (postgres, redis, security, cicd). */
    setup?: string;
    /** security with WireGuard: each peer's client config, without its private key. */
    vpnClients?: pulumi.Output<Record<string, string>>;
}

export interface HostOutput {
    rebootRequired: boolean;
    rebootReasons: readonly string[];
}

/** What the monitoring host scrapes here; with the monitoring container, the server and all its targets. */
export interface MonitoringOutput {
    /** The one source the exporters admit. */
    scrapedBy: string;
    /** This stack's guests' targets. */
    targets: string[];
    server?: {
        container: string;
        description: string;
        urls: string[];
        alertRules: number;
        targets: string[];
        unreachable: string[];
    };
}

export interface EnvironmentOutputs {
    environment: EnvironmentName;
    exposure: string;
    vms: Record<string, VmOutput>;
    /** The service containers (containers.<name>); the containers inside a VM are vms.<vm>.services. */
    containers: Record<string, LxcOutput>;
    hosts: Record<string, HostOutput>;
    /** With monitoring configured (docs/monitoring.md). */
    monitoring?: MonitoringOutput;
    /** With proxmox.apiAccess "managed": the token this stack created, to set as proxmoxApiToken. */
    access?: { tokenId: string; apiToken: pulumi.Output<string> };
    /**
     * With proxmox.previewAccess: the read-only credentials for the GitHub environments preview-<env> and
     * drift-<env> (PREVIEW_PROXMOX_API_TOKEN, PREVIEW_SSH_PRIVATE_KEY; docs/cicd-runner.md). Secrets. apiToken
     * only where the stack made the token (the one that creates the monitoring identity); elsewhere it is made
     * by hand (previewPveumCommands).
     */
    preview?: { tokenId: string; apiToken?: pulumi.Output<string>; sshPrivateKey: pulumi.Output<string> };
    /** The environment's backups (stacks/backups.ts). */
    backup?: BackupOutput;
}

export interface BackupOutput {
    /** The PBS storage entry, its datastore and namespace, and the vzdump job. */
    storage: string;
    datastore: string;
    namespace: string;
    job: string;
    schedule: string;
    guests: string[];
    /** Where this stack runs PBS: its GUI and its certificate fingerprint, for the other stack's config. */
    server?: { url: string; fingerprint: pulumi.Output<string | undefined> };
}

/** A VM's output: the VM, its workload and its gate as built (the last two absent while it waits). */
export function vmOutput(
    vm: VmModel,
    waiting: string | undefined,
    built: GpuGuest,
    workload: ComposeWorkload | undefined,
    gate: ThroughputGate | undefined,
): VmOutput {
    return {
        vmid: built.vmId,
        node: vm.node,
        address: built.address,
        gpu: built.gpu ?? null,
        services: Object.fromEntries(
            Object.entries(vm.services).map(([svcName, svc]) => [
                svcName,
                {
                    image: svc.image,
                    urls: workload?.urls[svcName] ?? [],
                    ...(svc.clients ? { clients: [...svc.clients] } : {}),
                },
            ]),
        ),
        routes: internalRoutes(vm.services),
        ...(workload?.ollamaEndpoint ? { ollamaEndpoint: workload.ollamaEndpoint } : {}),
        throughput: gate?.figures ?? [],
        ...(waiting ? { waitingFor: waiting } : {}),
    };
}
