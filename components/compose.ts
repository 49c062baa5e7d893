// The typed workload of one GPU VM (services, networks, volumes) and what is rendered from it: the
// reverse proxy's Traefik configuration and the docker-compose.yml artifact. Plain functions, used
// by ComposeWorkload (which deploys the same spec) and tested without Pulumi.

import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { addressOf } from "../config/net";
import { PROJECT_ROOT, proxyOf, secretRefs } from "../config/services";
import { EnvironmentName, ServiceConfig, VmConfig } from "../config/schema";

export interface WorkloadSpec {
    /** The VM's name: the compose project name and the prefix of every Docker object. */
    readonly project: string;
    readonly environment: EnvironmentName;
    /** The VM's static address: published ports bind to it and nothing else. */
    readonly address: string;
    /** The networks allowed through trustedOnly proxy routes. */
    readonly trustedSources: readonly string[];
    /** The one user-defined bridge network the services share, by compose key and Docker name. */
    readonly network: { readonly key: string; readonly name: string };
    /** Named volumes, by compose key and Docker name. */
    readonly volumes: Readonly<Record<string, string>>;
    readonly services: Readonly<Record<string, ServiceConfig>>;
    /** The content of each service's `files`, read from the repository: service → target → text. */
    readonly files: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export const NETWORK_KEY = "ai";
/** Where the proxy finds its routes inside its container. */
export const TRAEFIK_DYNAMIC_FILE = "/etc/traefik/dynamic.yml";
export const ACME_STORAGE = "/letsencrypt/acme.json";

export function isHostPath(source: string): boolean {
    return source.startsWith("/");
}

export function workloadSpec(
    vmName: string,
    vm: VmConfig,
    environment: EnvironmentName,
    trustedSources: readonly string[],
): WorkloadSpec {
    const volumeKeys = new Set(
        Object.values(vm.services).flatMap((s) => s.volumes.map((v) => v.source).filter((src) => !isHostPath(src))),
    );
    return {
        project: vmName,
        environment,
        address: vm.network.address === "dhcp" ? "0.0.0.0" : addressOf(vm.network.address),
        trustedSources: [...trustedSources],
        network: { key: NETWORK_KEY, name: `${vmName}-net` },
        volumes: Object.fromEntries([...volumeKeys].sort().map((k) => [k, `${vmName}-${k}`])),
        services: vm.services,
        files: Object.fromEntries(
            Object.entries(vm.services)
                .filter(([, s]) => s.files.length > 0)
                .map(([name, s]) => [
                    name,
                    Object.fromEntries(
                        s.files.map((f) => [f.target, fs.readFileSync(path.join(PROJECT_ROOT, f.source), "utf8")]),
                    ),
                ]),
        ),
    };
}

/** The compose `configs` key of a service's file: "<service>-<basename>". */
export function fileConfigKey(service: string, target: string): string {
    return `${service}-${path.posix.basename(target).replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

/** The env-file variables of a service: the ones that hold secrets. */
export function secretKeys(svc: ServiceConfig): string[] {
    return Object.keys(svc.secretEnvironment).sort();
}

/** Fills a secretEnvironment template with the secrets' values. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
    return template.replace(/\{\{([A-Za-z][A-Za-z0-9_-]*)\}\}/g, (_, name: string) => {
        const v = values[name];
        if (v === undefined) throw new Error(`serviceSecrets.${name} has no value`);
        return v;
    });
}

export function secretNamesOf(svc: ServiceConfig): string[] {
    return [...new Set(Object.values(svc.secretEnvironment).flatMap(secretRefs))].sort();
}

/** `30` → `"30s"`, Docker's duration form. */
const duration = (seconds: number) => `${seconds}s`;

// ---- the reverse proxy (Traefik v3): static config as arguments, routes as a file ----

const routeRule = (r: { host: string; pathPrefix?: string | undefined }) =>
    r.pathPrefix ? `Host(\`${r.host}\`) && PathPrefix(\`${r.pathPrefix}\`)` : `Host(\`${r.host}\`)`;

export function traefikArgs(proxy: NonNullable<ServiceConfig["proxy"]>): string[] {
    return [
        "--entrypoints.web.address=:80",
        "--entrypoints.websecure.address=:443",
        `--providers.file.filename=${TRAEFIK_DYNAMIC_FILE}`,
        `--certificatesresolvers.le.acme.email=${proxy.acmeEmail}`,
        `--certificatesresolvers.le.acme.storage=${ACME_STORAGE}`,
        "--certificatesresolvers.le.acme.httpchallenge.entrypoint=web",
        "--ping=true",
        "--accesslog=true",
        "--api.dashboard=false",
    ];
}

/**
 * The proxy's routes: TLS routes on 443 with a Let's Encrypt certificate, plain routes on 80 for
 * trusted networks only, every route rate-limited per client IP, and everything else on 80
 * redirected to HTTPS.
 */
export function traefikDynamicConfig(spec: WorkloadSpec, proxy: NonNullable<ServiceConfig["proxy"]>): string {
    const middlewares: Record<string, unknown> = {
        "rate-limit": { rateLimit: { average: proxy.rateLimit.average, burst: proxy.rateLimit.burst } },
        "trusted-only": { ipAllowList: { sourceRange: [...spec.trustedSources] } },
        "to-https": { redirectScheme: { scheme: "https", permanent: true } },
    };
    const routers: Record<string, unknown> = {
        "http-to-https": {
            rule: "PathPrefix(`/`)",
            entryPoints: ["web"],
            priority: 1,
            middlewares: ["to-https"],
            service: "noop@internal",
        },
    };
    const services: Record<string, unknown> = {};
    proxy.routes.forEach((route, i) => {
        const id = `route-${i}-${route.service}`;
        const backend = `${route.service}-${route.port}`;
        services[backend] = { loadBalancer: { servers: [{ url: `http://${route.service}:${route.port}` }] } };
        const chain = [...(route.trustedOnly ? ["trusted-only"] : []), "rate-limit"];
        if (route.pathPrefix) {
            middlewares[`${id}-strip`] = { stripPrefix: { prefixes: [route.pathPrefix] } };
            chain.push(`${id}-strip`);
        }
        routers[id] = {
            rule: routeRule(route),
            entryPoints: [route.tls ? "websecure" : "web"],
            service: backend,
            middlewares: chain,
            ...(route.tls ? { tls: { certResolver: "le" } } : {}),
        };
    });
    return stringify({ http: { middlewares, routers, services } }, { lineWidth: 0 });
}

/**
 * The URL at which the machine running `pulumi up` reaches the VM's Ollama (the service named
 * "ollama"): its published port on a private VM, or a trusted-only plain route of the proxy on a
 * public one (where Ollama publishes nothing). Undefined when there is no such way in.
 */
export function ollamaEndpoint(spec: WorkloadSpec): string | undefined {
    const ollama = spec.services["ollama"];
    if (!ollama) return undefined;
    const port = ollama.ports.find((p) => p.target === 11434 && p.protocol === "tcp");
    if (port) return `http://${spec.address}:${port.published}`;
    const proxy = proxyOf(spec.services);
    const route = proxy?.[1].proxy?.routes.find((r) => r.service === "ollama" && r.port === 11434);
    if (!proxy || !route) return undefined;
    const scheme = route.tls ? "https" : "http";
    return `${scheme}://${route.host}${route.pathPrefix ?? ""}`;
}

/** Where a person reaches each service: its published ports and the proxy routes to it. */
export function serviceUrls(spec: WorkloadSpec): Record<string, string[]> {
    const urls: Record<string, string[]> = Object.fromEntries(Object.keys(spec.services).map((s) => [s, []]));
    for (const [name, svc] of Object.entries(spec.services)) {
        for (const p of svc.ports) {
            const scheme = p.protocol === "udp" ? "udp" : p.published === 443 ? "https" : "http";
            urls[name]?.push(`${scheme}://${spec.address}:${p.published}`);
        }
    }
    const proxy = proxyOf(spec.services);
    for (const route of proxy?.[1].proxy?.routes ?? []) {
        urls[route.service]?.push(`${route.tls ? "https" : "http"}://${route.host}${route.pathPrefix ?? ""}`);
    }
    return urls;
}

// ---- the docker-compose.yml artifact ----

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
        ...(svc.ports.length > 0
            ? {
                  ports: svc.ports.map((p) => ({
                      target: p.target,
                      published: String(p.published),
                      host_ip: spec.address,
                      protocol: p.protocol,
                  })),
              }
            : {}),
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
        networks: [spec.network.key],
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
        networks: { [spec.network.key]: { name: spec.network.name, driver: "bridge" } },
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
