// The containers of one GPU VM, deployed with @pulumi/docker through a provider that reaches the
// VM's Docker over SSH. Each service is its own component (pinned image, container), beside the
// VM's network and named volumes, so a preview shows a diff per service. The same spec renders the
// docker-compose.yml artifact (composeFile.ts).

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { dependencyOrder } from "../../lib/graph";
import { describe } from "../describe";
import { renderCompose } from "./composeFile";
import { describeDockerReady, dockerSshOpts, renderDockerReadyScript } from "./dockerReady";
import { NETWORK_KEY, WorkloadSpec, networksOf, ollamaEndpoint, proxyOf, serviceUrls } from "./spec";
import { WorkloadService } from "./workloadService";

export interface ComposeWorkloadArgs {
    readonly spec: WorkloadSpec;
    /** The VM's login user (cloudInit.user), in the docker group. */
    readonly sshUser: string;
    /** The guest admin's private key (its public half in the VM's cloudInit.sshPublicKeys): the first-boot check. */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** The key file the Docker provider's ssh uses (dockerSshKeyFile); undefined: ssh's own identity files. */
    readonly dockerSshKeyFile?: string;
    /** Whether the VM has a GPU the containers may reserve (checked before they start). */
    readonly gpu: boolean;
    /** The guest boots through cloud-init (a VM; the default), which the readiness check waits for. */
    readonly cloudInit?: boolean;
    /** Each service's secretEnvironment, filled (variable → value, held secret), by service; none: no entry. */
    readonly secretEnvironment: Readonly<Record<string, SecretEnvironment>>;
    /** What must be done before the VM's Docker answers: the VM's start (GpuPassthroughVm.tune). */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** A service's secret variables, filled from serviceSecrets by the stack (config/resolve/secrets.ts). */
export type SecretEnvironment = Readonly<Record<string, pulumi.Output<string>>>;

/** A service's KEY=value lines: plain ones, then its secret ones (the whole list then a secret). */
export function serviceEnvs(
    svc: WorkloadSpec["services"][string],
    secretEnv: SecretEnvironment = {},
): { envs: pulumi.Input<string[]>; secret: boolean } {
    const plain = Object.entries(svc.environment).map(([k, v]) => `${k}=${v}`);
    const filled = Object.entries(secretEnv);
    if (filled.length === 0) return { envs: plain, secret: false };
    const envs = pulumi
        .all(filled.map(([k, v]) => pulumi.interpolate`${k}=${v}`))
        .apply((lines) => [...plain, ...lines]);
    return { envs: pulumi.secret(envs), secret: true };
}

export class ComposeWorkload extends pulumi.ComponentResource {
    /** Reaches the VM's Docker as `ssh://<user>@<address>`. */
    public readonly provider: docker.Provider;
    /** First boot done, Docker (and the GPU) answering. */
    public readonly ready: command.remote.Command;
    /** The VM's shared network. */
    public readonly network: docker.Network;
    /** Every network of the workload by compose key (spec.networks): the shared one and each isolated service's own. */
    public readonly networks: Readonly<Record<string, docker.Network>>;
    public readonly volumes: Readonly<Record<string, docker.Volume>>;
    public readonly services: Readonly<Record<string, WorkloadService>>;
    /** The Ollama container (the service named "ollama"), for whatever must wait for it. */
    public readonly ollama?: docker.Container;
    /** Where the machine running `pulumi up` reaches this VM's Ollama API (see spec.ollamaEndpoint). */
    public readonly ollamaEndpoint?: pulumi.Output<string>;
    /** Service name → where people reach it. */
    public readonly urls: Readonly<Record<string, string[]>>;
    /** The docker-compose.yml artifact; holds no secret. */
    public readonly composeYaml: string;

    constructor(name: string, args: ComposeWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:workload:ComposeWorkload", name, {}, opts);
        const { spec } = args;
        this.ready = describe(
            describeDockerReady(args.gpu),
            new command.remote.Command(
                `${name}-docker-ready`,
                {
                    connection: {
                        host: spec.address,
                        user: args.sshUser,
                        privateKey: args.sshPrivateKey,
                        dialErrorLimit: 60,
                    },
                    create: "bash -s",
                    stdin: renderDockerReadyScript(args.gpu, args.cloudInit ?? true),
                    logging: "stdoutAndStderr",
                },
                { parent: this, dependsOn: args.dependsOn },
            ),
        );
        // The host waits for the check above, so the provider never dials a VM that is not up.
        this.provider = new docker.Provider(
            `${name}-docker`,
            {
                host: this.ready.stdout.apply(() => `ssh://${args.sshUser}@${spec.address}`),
                sshOpts: dockerSshOpts(args.dockerSshKeyFile),
            },
            { parent: this },
        );
        const child = { parent: this, provider: this.provider, dependsOn: [this.ready] };
        const labels = [{ label: "ai-dualstack.environment", value: spec.environment }];
        this.networks = this.deployNetworks(name, spec, labels, child);
        this.network = this.networks[NETWORK_KEY] as docker.Network;
        this.volumes = Object.fromEntries(
            Object.entries(spec.volumes).map(([key, volumeName]) => [
                key,
                // Models and databases outlive the container and a destroy; remove them by hand.
                new docker.Volume(
                    `${name}-vol-${key}`,
                    { name: volumeName, labels },
                    { ...child, retainOnDelete: true },
                ),
            ]),
        );
        this.services = this.deployServices(name, args);
        this.ollama = this.services["ollama"]?.container;
        const endpoint = ollamaEndpoint(spec);
        if (endpoint !== undefined) this.ollamaEndpoint = pulumi.output(endpoint);
        this.urls = serviceUrls(spec);
        this.composeYaml = renderCompose(spec);
        this.registerOutputs({ urls: this.urls, ollamaEndpoint: this.ollamaEndpoint });
    }

    /** The shared network and each isolated service's own (spec.networks), none internal: egress stays. */
    private deployNetworks(
        name: string,
        spec: WorkloadSpec,
        labels: docker.types.input.NetworkLabel[],
        opts: pulumi.CustomResourceOptions,
    ): Record<string, docker.Network> {
        // The environment label on each: the policy pack tells a public container by the networks it joins.
        return Object.fromEntries(
            Object.entries(spec.networks).map(([key, n]) => [
                key,
                new docker.Network(
                    key === NETWORK_KEY ? `${name}-net` : `${name}-${key}`,
                    { name: n.name, driver: "bridge", attachable: false, labels },
                    opts,
                ),
            ]),
        );
    }

    /** Services come up after the ones they depend on (the proxy last); the rules ruled out unknown names. */
    private deployServices(name: string, args: ComposeWorkloadArgs): Record<string, WorkloadService> {
        const { spec } = args;
        const services: Record<string, WorkloadService> = {};
        const graph = Object.fromEntries(Object.entries(spec.services).map(([n, s]) => [n, s.dependsOn]));
        for (const svcName of dependencyOrder(graph, proxyOf(spec.services)?.[0])) {
            const svc = spec.services[svcName] as WorkloadSpec["services"][string];
            const { envs, secret } = serviceEnvs(svc, args.secretEnvironment[svcName]);
            // The proxy comes last and waits for what it routes to, healthy: no route exists before
            // its service has set itself up (Open WebUI's first admin, from the environment).
            const waitsFor = [...new Set([...svc.dependsOn, ...(svc.proxy?.routes.map((r) => r.service) ?? [])])];
            services[svcName] = new WorkloadService(
                `${name}-${svcName}`,
                {
                    name: svcName,
                    svc,
                    spec,
                    networks: networksOf(spec, svcName).map((key) => this.networks[key] as docker.Network),
                    volumes: this.volumes,
                    envs,
                    secret,
                    dependsOn: [this.ready, ...waitsFor.map((d) => (services[d] as WorkloadService).container)],
                },
                { parent: this, provider: this.provider },
            );
        }
        return services;
    }
}
