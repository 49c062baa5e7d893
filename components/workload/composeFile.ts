// The docker-compose.yml artifact of a VM's workload: the same services Pulumi deploys one resource
// each, for a person who wants to read them or run them by hand. It never holds a secret.

import { stringify } from "yaml";
import { ServiceConfig } from "../../config/schema";
import { WorkloadSpec, fileConfigKey, isHostPath, networksOf, proxyOf, secretKeys } from "./spec";
import { TRAEFIK_DYNAMIC_FILE, traefikArgs, traefikDynamicConfig } from "./traefik";

/** `30` → `"30s"`, Docker's duration form. */
const duration = (seconds: number) => `${seconds}s`;

/** Compose interpolates `$`: a literal one is written `$$`. */
function escapeDollars(value: unknown): unknown {
    if (typeof value === "string") return value.replace(/\$/g, "$$$$");
    if (Array.isArray(value)) return value.map(escapeDollars);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDollars(v)]));
    }
    return value;
}

export function envFileName(service: string): string {
    return `${service}.env`;
}

/** Published ports, bound to the VM's own address. */
function composePorts(spec: WorkloadSpec, svc: ServiceConfig) {
    return svc.ports.map((p) => ({
        target: p.target,
        published: String(p.published),
        host_ip: spec.address,
        protocol: p.protocol,
    }));
}

function composeService(spec: WorkloadSpec, name: string, svc: ServiceConfig): Record<string, unknown> {
    const command = svc.proxy ? [...traefikArgs(svc.proxy), ...(svc.command ?? [])] : svc.command;
    const limits = {
        ...(svc.limits.cpus !== undefined ? { cpus: String(svc.limits.cpus) } : {}),
        ...(svc.limits.memoryGiB !== undefined ? { memory: `${Math.round(svc.limits.memoryGiB * 1024)}M` } : {}),
    };
    const resources = {
        ...(Object.keys(limits).length > 0 ? { limits } : {}),
        ...(svc.gpu !== undefined
            ? { reservations: { devices: [{ driver: "nvidia", count: "all", capabilities: ["gpu"] }] } }
            : {}),
    };
    return {
        image: svc.image,
        container_name: name,
        ...(command ? { command } : {}),
        restart: svc.restart,
        ...(Object.keys(svc.environment).length > 0 ? { environment: { ...svc.environment } } : {}),
        ...(secretKeys(svc).length > 0 ? { env_file: [{ path: `./${envFileName(name)}`, required: true }] } : {}),
        ...(svc.ports.length > 0 ? { ports: composePorts(spec, svc) } : {}),
        ...(svc.volumes.length > 0
            ? {
                  volumes: svc.volumes.map((v) => ({
                      type: isHostPath(v.source) ? "bind" : "volume",
                      source: v.source,
                      target: v.target,
                      read_only: v.readOnly,
                      // As Pulumi's Docker provider does, a missing host folder is created.
                      ...(isHostPath(v.source) ? { bind: { create_host_path: true } } : {}),
                  })),
              }
            : {}),
        ...(svc.proxy || svc.files.length > 0
            ? {
                  configs: [
                      ...(svc.proxy ? [{ source: "traefik-dynamic", target: TRAEFIK_DYNAMIC_FILE }] : []),
                      ...svc.files.map((f) => ({ source: fileConfigKey(name, f.target), target: f.target })),
                  ],
              }
            : {}),
        networks: networksOf(spec, name),
        ...(svc.dependsOn.length > 0
            ? { depends_on: Object.fromEntries(svc.dependsOn.map((d) => [d, { condition: "service_healthy" }])) }
            : {}),
        healthcheck: {
            test: [...svc.healthcheck.test],
            interval: duration(svc.healthcheck.intervalSeconds),
            timeout: duration(svc.healthcheck.timeoutSeconds),
            retries: svc.healthcheck.retries,
            start_period: duration(svc.healthcheck.startPeriodSeconds),
        },
        ...(Object.keys(resources).length > 0 ? { deploy: { resources } } : {}),
    };
}

/**
 * The workload as a docker-compose.yml, for a person who wants to read the stack or run it by hand
 * (`docker compose up -d` beside the env files it names). Secrets never appear in it: each service
 * that needs one reads `<service>.env`, whose keys the header lists.
 */
export function renderCompose(spec: WorkloadSpec): string {
    const proxy = proxyOf(spec.services);
    const configs: Record<string, { content: string }> = {
        ...(proxy?.[1].proxy ? { "traefik-dynamic": { content: traefikDynamicConfig(spec, proxy[1].proxy) } } : {}),
        ...Object.fromEntries(
            Object.entries(spec.files).flatMap(([svc, files]) =>
                Object.entries(files).map(([target, content]) => [fileConfigKey(svc, target), { content }]),
            ),
        ),
    };
    const doc: Record<string, unknown> = {
        name: spec.project,
        services: Object.fromEntries(
            Object.entries(spec.services).map(([name, svc]) => [name, composeService(spec, name, svc)]),
        ),
        networks: Object.fromEntries(
            Object.entries(spec.networks).map(([key, n]) => [key, { name: n.name, driver: "bridge" }]),
        ),
        ...(Object.keys(spec.volumes).length > 0
            ? { volumes: Object.fromEntries(Object.entries(spec.volumes).map(([k, name]) => [k, { name }])) }
            : {}),
        ...(Object.keys(configs).length > 0 ? { configs } : {}),
    };
    const envFiles = Object.entries(spec.services)
        .filter(([, s]) => secretKeys(s).length > 0)
        .map(([name, s]) => `#   ${envFileName(name)}: ${secretKeys(s).join(", ")}`);
    const header = [
        `# ${spec.project} (${spec.environment}): rendered by ai-dualstack from vms.${spec.project}.services.`,
        "# Pulumi deploys the same services one resource each; this file is for reading or running by hand.",
        ...(envFiles.length > 0
            ? ["# Secrets are not in this file. Beside it, each env file holds KEY=value lines for:", ...envFiles]
            : []),
    ];
    return `${header.join("\n")}\n${stringify(escapeDollars(doc), { lineWidth: 0 })}`;
}
