// The stack outputs: what `pulumi stack output` shows and the offline plan prints.

import * as pulumi from "@pulumi/pulumi";
import { EnvironmentName, LxcRole } from "../config/schema";
import { ModelFigures } from "../components/gate/throughputGate";
import { GpuSummary } from "../components/gpuVm/gpuPassthroughVm";

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
    /**
     * Set while the VM waits for its host's reboot: its workload and gates are left out of this
     * `up` and come with the first `up` after the reboot.
     */
    waitingFor?: string;
}

/** A service container (an LXC: PostgreSQL, Redis, security, CI/CD, monitoring, backup). */
export interface ContainerOutput {
    role: LxcRole;
    vmid: pulumi.Output<number>;
    node: string;
    address: pulumi.Output<string | undefined>;
    endpoints: pulumi.Output<string[]>;
    /** What the data-layer setup installs and configures in it (postgres, redis). */
    setup?: string;
}

export interface HostOutput {
    rebootRequired: boolean;
    rebootReasons: readonly string[];
}

export interface EnvironmentOutputs {
    environment: EnvironmentName;
    exposure: string;
    vms: Record<string, VmOutput>;
    /** The service containers (containers.<name>); the containers inside a VM are vms.<vm>.services. */
    containers: Record<string, ContainerOutput>;
    hosts: Record<string, HostOutput>;
    /** With proxmox.apiAccess "managed": the token this stack created, to set as proxmoxApiToken. */
    access?: { tokenId: string; apiToken: pulumi.Output<string> };
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
