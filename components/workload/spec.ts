// The typed workload of one GPU VM (services, networks, volumes) and what follows from it alone: where
// Ollama and each service are reached. Plain functions, used by ComposeWorkload (which deploys the
// spec) and the compose file (which renders it), and tested without Pulumi.

import * as path from "path";
import { ServiceModel, VmModel } from "../../config/resolve";
import { EnvironmentName, ServiceConfig, trustedEntrypointPort } from "../../config/schema";

/** The service that is the VM's reverse proxy, if any. */
export function proxyOf<S extends ServiceConfig>(services: Readonly<Record<string, S>>): [string, S] | undefined {
    return Object.entries(services).find(([, s]) => s.proxy !== undefined);
}

export interface WorkloadSpec {
    /** The VM's name: the compose project name and the prefix of every Docker object. */
    readonly project: string;
    readonly environment: EnvironmentName;
    /** The VM's static address: published ports bind to it and nothing else. */
    readonly address: string;
    /** The networks allowed through trustedOnly proxy routes. */
    readonly trustedSources: readonly string[];
    /** Also allowed through the trustedOnly routes to exporters, and no other: the monitoring host. */
    readonly metricsSources: readonly string[];
    /**
     * The user-defined bridge networks, by compose key: the VM's shared one (NETWORK_KEY), which every
     * service without `clients` joins, and one per service with `clients` (see serviceNetworks).
     */
    readonly networks: Readonly<Record<string, DockerNetwork>>;
    /** Named volumes, by compose key and Docker name. */
    readonly volumes: Readonly<Record<string, string>>;
    readonly services: Readonly<Record<string, ServiceModel>>;
    /** The content of each service's `files`, read from the repository: service → target → text. */
    readonly files: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A Docker network of the workload: its Docker name and the services on it, in the VM's order. */
export interface DockerNetwork {
    readonly name: string;
    readonly members: readonly string[];
}

/** The compose key of the VM's shared network. */
export const NETWORK_KEY = "ai";

/** The compose key of a service's own network (a service with `clients`); never NETWORK_KEY. */
export function ownNetworkKey(service: string): string {
    return `${service}-net`;
}

/**
 * The networks of a VM's services. Without `clients`, a service is on the shared `<vm>-net`, where every
 * such service reaches it. With them, it is on `<vm>-<service>-net` instead, joined by itself, its
 * clients and its dependsOn (so it still reaches what it waits for), and nothing else. Neither is
 * internal: a service keeps the VM's egress (SearXNG's queries).
 */
export function serviceNetworks(
    project: string,
    services: Readonly<Record<string, Pick<ServiceConfig, "clients" | "dependsOn">>>,
): Record<string, DockerNetwork> {
    const names = Object.keys(services);
    const networks: Record<string, DockerNetwork> = {
        [NETWORK_KEY]: { name: `${project}-net`, members: names.filter((n) => services[n]?.clients === undefined) },
    };
    for (const [name, svc] of Object.entries(services)) {
        if (svc.clients === undefined) continue;
        const joins = new Set([name, ...svc.clients, ...svc.dependsOn]);
        networks[ownNetworkKey(name)] = { name: `${project}-${name}-net`, members: names.filter((n) => joins.has(n)) };
    }
    return networks;
}

/** The compose keys of the networks a service joins. */
export function networksOf(spec: Pick<WorkloadSpec, "networks">, service: string): string[] {
    return Object.entries(spec.networks)
        .filter(([, n]) => n.members.includes(service))
        .map(([key]) => key);
}

export function isHostPath(source: string): boolean {
    return source.startsWith("/");
}

/** The workload of one VM, from its resolved model; file contents were read by the resolve step. */
export function workloadSpec(
    vm: Pick<VmModel, "name" | "network" | "services">,
    environment: EnvironmentName,
    trustedSources: readonly string[],
    metricsSources: readonly string[] = [],
): WorkloadSpec {
    const volumeKeys = new Set(
        Object.values(vm.services).flatMap((s) => s.volumes.map((v) => v.source).filter((src) => !isHostPath(src))),
    );
    return {
        project: vm.name,
        environment,
        address: vm.network.address?.ip ?? "0.0.0.0",
        trustedSources: [...trustedSources],
        metricsSources: [...metricsSources],
        networks: serviceNetworks(vm.name, vm.services),
        volumes: Object.fromEntries([...volumeKeys].sort().map((k) => [k, `${vm.name}-${k}`])),
        services: vm.services,
        files: Object.fromEntries(
            Object.entries(vm.services)
                .filter(([, s]) => s.files.length > 0)
                .map(([name, s]) => [name, { ...s.fileContents }]),
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

type ProxyRoute = NonNullable<ServiceConfig["proxy"]>["routes"][number];

/**
 * Where a proxy route answers: HTTPS on the route's host, or, for a plain route, the port the proxy
 * publishes its trusted entrypoint on (never the internet-facing 80). Undefined for a plain route
 * of a proxy that does not publish that entrypoint (the config refuses it).
 */
function routeUrl(proxy: ServiceConfig, route: ProxyRoute): string | undefined {
    if (route.tls) return `https://${route.host}${route.pathPrefix ?? ""}`;
    const trusted = trustedEntrypointPort(proxy);
    return trusted === undefined ? undefined : `http://${route.host}:${trusted}${route.pathPrefix ?? ""}`;
}

/**
 * The URL at which the machine running `pulumi up` reaches the VM's Ollama (the service named
 * "ollama"): its published port on a private VM, or a route of the proxy on a public one (where
 * Ollama publishes nothing). Undefined when there is no such way in.
 */
export function ollamaEndpoint(spec: WorkloadSpec): string | undefined {
    const ollama = spec.services["ollama"];
    if (!ollama) return undefined;
    const port = ollama.ports.find((p) => p.target === 11434 && p.protocol === "tcp");
    if (port) return `http://${spec.address}:${port.published}`;
    const proxy = proxyOf(spec.services);
    const route = proxy?.[1].proxy?.routes.find((r) => r.service === "ollama" && r.port === 11434);
    return proxy && route ? routeUrl(proxy[1], route) : undefined;
}

/** A service that reaches another of its VM over the VM's network: Open WebUI's OpenAI backends and web search. */
export interface InternalRoute {
    from: string;
    to: string;
    url: string;
    /** What the route is for. */
    kind: "OpenAI API" | "web search";
}

/** The environment variables that name another service by URL, as Open WebUI reads them. */
const ROUTE_VARIABLES: Readonly<Record<string, InternalRoute["kind"]>> = {
    OPENAI_API_BASE_URLS: "OpenAI API", // ";"-separated
    SEARXNG_QUERY_URL: "web search",
};

/**
 * The routes between services of one VM that their environment names (OPENAI_API_BASE_URLS, split on ";",
 * and SEARXNG_QUERY_URL): Open WebUI's "documents" model comes from rag-answer this way, its web search
 * from searxng. URLs to other hosts are not routes of this VM and are left out.
 */
export function internalRoutes(services: Record<string, Pick<ServiceConfig, "environment">>): InternalRoute[] {
    const routes: InternalRoute[] = [];
    for (const [from, svc] of Object.entries(services)) {
        for (const [variable, kind] of Object.entries(ROUTE_VARIABLES)) {
            for (const url of (svc.environment[variable] ?? "").split(";").map((u) => u.trim())) {
                const host = /^https?:\/\/([a-z0-9-]+)[:/]/.exec(url)?.[1];
                if (host && host in services && host !== from) routes.push({ from, to: host, url, kind });
            }
        }
    }
    return routes;
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
        const url = proxy && routeUrl(proxy[1], route);
        if (url) urls[route.service]?.push(url);
    }
    return urls;
}
