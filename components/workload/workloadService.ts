// One service of a VM's workload: its pinned image and its container, with healthcheck, limits, GPU
// reservation, uploads and the environment built from its secrets.

import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ServiceConfig } from "../../config/schema";
import { WorkloadSpec, isHostPath } from "./spec";
import { TRAEFIK_DYNAMIC_FILE, traefikArgs, traefikDynamicConfig } from "./traefik";

const MIB_PER_GIB = 1024;

export interface WorkloadServiceArgs {
    /** The service's name: the container's name and its host name in the VM network. */
    readonly name: string;
    readonly svc: ServiceConfig;
    readonly spec: WorkloadSpec;
    /** The networks it joins (spec.networksOf): the VM's shared one or its own, and those of the services it is a client of. */
    readonly networks: readonly docker.Network[];
    readonly volumes: Readonly<Record<string, docker.Volume>>;
    /** KEY=value lines; a secret Output when they carry serviceSecrets. */
    readonly envs: pulumi.Input<string[]>;
    readonly secret: boolean;
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** The container's settings: the compose file's service, in the docker provider's terms. */
export function containerArgs(args: WorkloadServiceArgs, image: pulumi.Input<string>): docker.ContainerArgs {
    const { svc, spec } = args;
    const h = svc.healthcheck;
    const uploads = [
        ...(svc.proxy ? [{ file: TRAEFIK_DYNAMIC_FILE, content: traefikDynamicConfig(spec, svc.proxy) }] : []),
        ...Object.entries(spec.files[args.name] ?? {}).map(([file, content]) => ({ file, content })),
    ];
    const command = svc.proxy ? [...traefikArgs(svc.proxy), ...(svc.command ?? [])] : svc.command;
    return {
        name: args.name,
        image,
        restart: svc.restart,
        ...(command ? { command: [...command] } : {}),
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
        networksAdvanced: args.networks.map((n) => ({ name: n.name, aliases: [args.name] })),
        healthcheck: {
            tests: [...h.test],
            interval: `${h.intervalSeconds}s`,
            timeout: `${h.timeoutSeconds}s`,
            retries: h.retries,
            startPeriod: `${h.startPeriodSeconds}s`,
        },
        ...(svc.gpu !== undefined ? { gpus: "all" } : {}),
        ...(svc.limits.cpus !== undefined ? { cpus: String(svc.limits.cpus) } : {}),
        ...(svc.limits.memoryGiB !== undefined ? { memory: Math.round(svc.limits.memoryGiB * MIB_PER_GIB) } : {}),
        ...(uploads.length > 0 ? { uploads } : {}),
        // `up` returns once the container is healthy, so what depends on it finds it working.
        wait: true,
        waitTimeout: h.startPeriodSeconds + h.retries * (h.intervalSeconds + h.timeoutSeconds) + 60,
        logOpts: { "max-size": "10m", "max-file": "3" },
    };
}

/** One service: its pinned image and its container. */
export class WorkloadService extends pulumi.ComponentResource {
    public readonly image: docker.RemoteImage;
    public readonly container: docker.Container;

    constructor(name: string, args: WorkloadServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("ai-dualstack:workload:WorkloadService", name, {}, opts);
        this.image = new docker.RemoteImage(
            `${name}-image`,
            // Kept on the VM when replaced: a rollback to the previous tag needs no download.
            { name: args.svc.image, keepLocally: true },
            { parent: this, dependsOn: args.dependsOn },
        );
        this.container = new docker.Container(name, containerArgs(args, this.image.imageId), {
            parent: this,
            dependsOn: args.dependsOn,
            ...(args.secret ? { additionalSecretOutputs: ["envs"] } : {}),
        });
        this.registerOutputs({ image: args.svc.image });
    }
}
