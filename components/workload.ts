// The containers of one GPU VM, deployed with @pulumi/docker through a provider that reaches the
// VM's Docker over SSH. Each service is its own component (pinned image, container), beside the
// VM's network and named volumes, so a preview shows a diff per service. The same spec renders the
// docker-compose.yml artifact (components/compose.ts).

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ServiceConfig } from "../config/schema";
import {
    TRAEFIK_DYNAMIC_FILE,
    WorkloadSpec,
    fillTemplate,
    isHostPath,
    ollamaEndpoint,
    renderCompose,
    secretNamesOf,
    serviceUrls,
    traefikArgs,
    traefikDynamicConfig,
} from "./compose";
import { proxyOf } from "../config/services";

export interface ComposeWorkloadArgs {
    readonly spec: WorkloadSpec;
    /** The VM's login user (cloudInit.user), in the docker group. */
    readonly sshUser: string;
    /** Private key whose public half is in the VM's cloudInit.sshPublicKeys. */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** Whether the VM has a GPU the containers may reserve (checked before they start). */
    readonly gpu: boolean;
    /** The serviceSecrets values the services' templates name. */
    readonly secrets: Readonly<Record<string, pulumi.Output<string>>>;
    /** What must be done before the VM's Docker answers: the VM's start (GpuPassthroughVm.tune). */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** The docker provider's SSH options: no prompts, and the host key learnt on first contact. */
export const DOCKER_SSH_OPTS = [
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=accept-new",
    "-o",
    "ConnectTimeout=15",
] as const;

/** Waits for first boot (cloud-init, the NVIDIA reboot) and proves Docker, and the GPU, answer. */
export function renderDockerReadyScript(gpu: boolean): string {
    const lines = [
        "set -euo pipefail",
        // Exit 2 means done with recoverable warnings; only a hang or a hard error stops here.
        "timeout 1800 cloud-init status --wait >/dev/null || [ $? -eq 2 ]",
        "docker info --format 'ai-dualstack: docker {{.ServerVersion}}'",
        ...(gpu
            ? [
                  "nvidia-smi --query-gpu=name,driver_version --format=csv,noheader",
                  "docker info --format '{{json .Runtimes}}' | grep -q nvidia || { echo 'ai-dualstack: the nvidia container runtime is missing' >&2; exit 1; }",
              ]
            : []),
    ];
    return `${lines.join("\n")}\n`;
}

const MIB_PER_GIB = 1024;

interface ServiceArgs {
    readonly name: string;
    readonly svc: ServiceConfig;
    readonly spec: WorkloadSpec;
    readonly network: docker.Network;
    readonly volumes: Readonly<Record<string, docker.Volume>>;
    readonly envs: pulumi.Input<string[]>;
    readonly secret: boolean;
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** One service: its pinned image and its container. */
export class WorkloadService extends pulumi.ComponentResource {
    public readonly image: docker.RemoteImage;
    public readonly container: docker.Container;

    constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:workload:WorkloadService", name, {}, opts);
        const { svc, spec } = args;
        this.image = new docker.RemoteImage(
            `${name}-image`,
            // Kept on the VM when replaced: a rollback to the previous tag needs no download.
            { name: svc.image, keepLocally: true },
            { parent: this, dependsOn: args.dependsOn },
        );
        const h = svc.healthcheck;
        const uploads = [
            ...(svc.proxy ? [{ file: TRAEFIK_DYNAMIC_FILE, content: traefikDynamicConfig(spec, svc.proxy) }] : []),
            ...Object.entries(spec.files[args.name] ?? {}).map(([file, content]) => ({ file, content })),
        ];
        this.container = new docker.Container(
            name,
            {
                name: args.name,
                image: this.image.imageId,
                restart: svc.restart,
                ...(svc.proxy
                    ? { command: [...traefikArgs(svc.proxy), ...(svc.command ?? [])] }
                    : svc.command
                      ? { command: [...svc.command] }
                      : {}),
                envs: args.envs,
                ports: svc.ports.map((p) => ({
                    internal: p.target,
                    external: p.published,
                    ip: spec.address,
                    protocol: p.protocol,
                })),
                volumes: svc.volumes.map((v) =>
                    isHostPath(v.source)
                        ? { hostPath: v.source, containerPath: v.target, readOnly: v.readOnly }
                        : {
                              volumeName: (args.volumes[v.source] as docker.Volume).name,
                              containerPath: v.target,
                              readOnly: v.readOnly,
                          },
                ),
                networksAdvanced: [{ name: args.network.name, aliases: [args.name] }],
                healthcheck: {
                    tests: [...h.test],
                    interval: `${h.intervalSeconds}s`,
                    timeout: `${h.timeoutSeconds}s`,
                    retries: h.retries,
                    startPeriod: `${h.startPeriodSeconds}s`,
                },
                ...(svc.gpu !== undefined ? { gpus: "all" } : {}),
                ...(svc.limits.cpus !== undefined ? { cpus: String(svc.limits.cpus) } : {}),
                ...(svc.limits.memoryGiB !== undefined
                    ? { memory: Math.round(svc.limits.memoryGiB * MIB_PER_GIB) }
                    : {}),
                ...(uploads.length > 0 ? { uploads } : {}),
                // `up` returns once the container is healthy, so what depends on it finds it working.
                wait: true,
                waitTimeout: h.startPeriodSeconds + h.retries * (h.intervalSeconds + h.timeoutSeconds) + 60,
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            {
                parent: this,
                dependsOn: args.dependsOn,
                ...(args.secret ? { additionalSecretOutputs: ["envs"] } : {}),
            },
        );
        this.registerOutputs({ image: svc.image });
    }
}

export class ComposeWorkload extends pulumi.ComponentResource {
    /** Reaches the VM's Docker as `ssh://<user>@<address>`. */
    public readonly provider: docker.Provider;
    /** First boot done, Docker (and the GPU) answering. */
    public readonly ready: command.remote.Command;
    public readonly network: docker.Network;
    public readonly volumes: Readonly<Record<string, docker.Volume>>;
    public readonly services: Readonly<Record<string, WorkloadService>>;
    /** The Ollama container (the service named "ollama"), for whatever must wait for it. */
    public readonly ollama?: docker.Container;
    /** Where the machine running `pulumi up` reaches this VM's Ollama API (see compose.ollamaEndpoint). */
    public readonly ollamaEndpoint?: pulumi.Output<string>;
    /** Service name → where people reach it. */
    public readonly urls: Readonly<Record<string, string[]>>;
    /** The docker-compose.yml artifact; holds no secret. */
    public readonly composeYaml: string;

    constructor(name: string, args: ComposeWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:workload:ComposeWorkload", name, {}, opts);
        const { spec } = args;

        this.ready = new command.remote.Command(
            `${name}-docker-ready`,
            {
                connection: {
                    host: spec.address,
                    user: args.sshUser,
                    privateKey: args.sshPrivateKey,
                    dialErrorLimit: 60,
                },
                create: "bash -s",
                stdin: renderDockerReadyScript(args.gpu),
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: args.dependsOn },
        );
        // The host waits for the check above, so the provider never dials a VM that is not up.
        this.provider = new docker.Provider(
            `${name}-docker`,
            {
                host: this.ready.stdout.apply(() => `ssh://${args.sshUser}@${spec.address}`),
                sshOpts: [...DOCKER_SSH_OPTS],
            },
            { parent: this },
        );
        const child = { parent: this, provider: this.provider, dependsOn: [this.ready] };

        this.network = new docker.Network(
            `${name}-net`,
            {
                name: spec.network.name,
                driver: "bridge",
                attachable: false,
                labels: [{ label: "ai-dualstack.environment", value: spec.environment }],
            },
            child,
        );
        this.volumes = Object.fromEntries(
            Object.entries(spec.volumes).map(([key, volumeName]) => [
                key,
                new docker.Volume(
                    `${name}-vol-${key}`,
                    { name: volumeName, labels: [{ label: "ai-dualstack.environment", value: spec.environment }] },
                    // Models and databases outlive the container and a destroy; remove them by hand.
                    { ...child, retainOnDelete: true },
                ),
            ]),
        );

        const services: Record<string, WorkloadService> = {};
        // Services come up after the ones they depend on; the schema check ruled out unknown names.
        const order = dependencyOrder(spec.services);
        for (const svcName of order) {
            const svc = spec.services[svcName] as ServiceConfig;
            const plain = Object.entries(svc.environment).map(([k, v]) => `${k}=${v}`);
            const names = secretNamesOf(svc);
            const envs =
                names.length === 0
                    ? plain
                    : pulumi.all(names.map((n) => args.secrets[n] ?? pulumi.output(""))).apply((values) => {
                          const byName = Object.fromEntries(names.map((n, i) => [n, values[i] as string]));
                          return [
                              ...plain,
                              ...Object.entries(svc.secretEnvironment).map(
                                  ([k, t]) => `${k}=${fillTemplate(t, byName)}`,
                              ),
                          ];
                      });
            services[svcName] = new WorkloadService(
                `${name}-${svcName}`,
                {
                    name: svcName,
                    svc,
                    spec,
                    network: this.network,
                    volumes: this.volumes,
                    envs: names.length === 0 ? envs : pulumi.secret(envs),
                    secret: names.length > 0,
                    dependsOn: [this.ready, ...svc.dependsOn.map((d) => (services[d] as WorkloadService).container)],
                },
                { parent: this, provider: this.provider },
            );
        }
        this.services = services;
        this.ollama = services["ollama"]?.container;
        const endpoint = ollamaEndpoint(spec);
        if (endpoint !== undefined) this.ollamaEndpoint = pulumi.output(endpoint);
        this.urls = serviceUrls(spec);
        this.composeYaml = renderCompose(spec);
        this.registerOutputs({ urls: this.urls, ollamaEndpoint: this.ollamaEndpoint });
    }
}

/** Service names, each after those it depends on (the proxy last among equals). */
export function dependencyOrder(services: Readonly<Record<string, ServiceConfig>>): string[] {
    const done: string[] = [];
    const visiting = new Set<string>();
    const visit = (name: string) => {
        if (done.includes(name)) return;
        if (visiting.has(name)) throw new Error(`services depend on each other in a cycle through "${name}"`);
        visiting.add(name);
        for (const dep of services[name]?.dependsOn ?? []) if (dep in services) visit(dep);
        visiting.delete(name);
        done.push(name);
    };
    const proxy = proxyOf(services)?.[0];
    for (const name of Object.keys(services).filter((n) => n !== proxy)) visit(name);
    if (proxy) visit(proxy);
    return done;
}
