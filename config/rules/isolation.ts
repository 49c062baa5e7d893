// The rules that keep the two environments apart, in one place: id ranges and networks that never
// meet, guests only on their own environment's bridges, mirrors and GPUs, trusted networks that are
// narrow, management ports open to them alone, and services that publish only what the policy allows.
// What differs between the environments comes from their EnvironmentPolicy, never from a name.

import { containsIp, containsNetwork, networksOverlap, parseCidr } from "../../lib/ipv4";
import { EnvironmentPolicies, EnvironmentPolicy } from "../policy";
import { ENVIRONMENTS, EnvironmentName, ParsedConfig } from "../schema";
import { Guest } from "./guests";
import { Add } from "./issues";

const other = (env: EnvironmentName): EnvironmentName => (env === ENVIRONMENTS[0] ? ENVIRONMENTS[1] : ENVIRONMENTS[0]);

/** Networks wider than this are no LAN or VPN (a /7 is already 33 million addresses). */
export const WIDEST_TRUSTED_PREFIX = 8;

/** Ports that administer a guest or a node: SSH and the Proxmox GUI/API. */
export const MANAGEMENT_PORTS: readonly number[] = [22, 8006];

/** Shared facts (Pulumi.yaml): the same verdict for either stack. */
export function checkEnvironmentsApart(cfg: ParsedConfig, policies: EnvironmentPolicies, add: Add): void {
    for (const env of ENVIRONMENTS) {
        const policy = policies[env];
        const otherNet = cfg.environments[other(env)].network.cidr;
        cfg.environments[env].network.trustedSources.forEach((source, i) => {
            const at = `environments.${env}.network.trustedSources[${i}]`;
            // Whatever they mean, trusted networks open SSH and the trusted-only routes: never the world.
            if (parseCidr(source).prefix < WIDEST_TRUSTED_PREFIX) {
                const what =
                    policy.trustedSources === "only-way-in"
                        ? `${env} guests are reachable only from the networks you name`
                        : `these networks get SSH to the ${env} guests and the proxy's trusted-only routes`;
                add(at, `${source} is far wider than a LAN or VPN; ${what}`);
            } else if (
                policy.trustedSources === "only-way-in" &&
                networksOverlap(parseCidr(source), parseCidr(otherNet))
            ) {
                add(
                    at,
                    `${source} overlaps the ${other(env)} network ${otherNet}; ${other(env)} guests must never reach ${env} ones`,
                );
            }
        });
    }
    const [priv, pub] = [cfg.environments.private, cfg.environments.public];
    if (priv.vmids.first <= pub.vmids.last && pub.vmids.first <= priv.vmids.last) {
        add(
            "environments.public.vmids",
            `${pub.vmids.first}-${pub.vmids.last} overlaps the private range ${priv.vmids.first}-${priv.vmids.last}; give each environment its own range`,
        );
    }
    if (networksOverlap(parseCidr(priv.network.cidr), parseCidr(pub.network.cidr))) {
        add(
            "environments.public.network.cidr",
            `${pub.network.cidr} overlaps the private network ${priv.network.cidr}; the environments need separate subnets`,
        );
    }
}

/** A guest uses only its environment's bridge, mirror and network, and admits only what the policy lets in. */
export function checkGuestIsolation(cfg: ParsedConfig, policy: EnvironmentPolicy, g: Guest, add: Add): void {
    const env = policy.environment;
    const envCfg = cfg.environments[env];
    const at = `${g.kind}.${g.name}`;
    const node = cfg.nodes[g.node];
    const bridge = node?.bridges[g.network.bridge];
    if (bridge && bridge.environment !== env) {
        add(
            `${at}.network.bridge`,
            `${g.network.bridge} is a ${bridge.environment} bridge; a ${env} guest must sit on a ${env} bridge`,
        );
    }
    const mirror = node?.mirrors[g.disk.storage];
    if (mirror && mirror.environment !== env) {
        add(
            `${at}.disk.storage`,
            `${g.disk.storage} is the ${mirror.environment} mirror; a ${env} guest must use a ${env} mirror`,
        );
    }
    if (node && g.network.address !== "dhcp") {
        const ip = g.network.address.split("/")[0] as string;
        if (!containsIp(parseCidr(envCfg.network.cidr), ip)) {
            add(
                `${at}.network.address`,
                `${ip} is outside the ${env} network ${envCfg.network.cidr}; use an address inside it`,
            );
        }
    }
    if (!node) return;
    const trusted = envCfg.network.trustedSources.map(parseCidr);
    const insideTrusted = (source: string) =>
        source !== "any" && trusted.some((t) => containsNetwork(t, parseCidr(source)));
    g.firewall.inbound.forEach((rule, i) => {
        const at = `${g.kind}.${g.name}.firewall.inbound[${i}]`;
        if (!sourceAllowed(cfg, policy, rule.source)) {
            add(`${at}.source`, outsideMessage(cfg, env, rule.source));
            return;
        }
        const management = MANAGEMENT_PORTS.filter((p) => portsOf(rule.port).some(([lo, hi]) => p >= lo && p <= hi));
        if (management.length > 0 && !insideTrusted(rule.source)) {
            add(
                `${at}.source`,
                `"${rule.source}" would reach management port ${management.join(" and ")} of a ${env} guest; only environments.${env}.network.trustedSources (${envCfg.network.trustedSources.join(", ")}) administer it, and the baseline already lets them in`,
            );
        }
    });
}

/** Where the policy lets nothing in from outside but the trusted networks, a source lies inside them or the environment. */
function sourceAllowed(cfg: ParsedConfig, policy: EnvironmentPolicy, source: string): boolean {
    if (policy.trustedSources !== "only-way-in") return true;
    const net = cfg.environments[policy.environment].network;
    return (
        source !== "any" &&
        [...net.trustedSources, net.cidr].some((t) => containsNetwork(parseCidr(t), parseCidr(source)))
    );
}

function outsideMessage(cfg: ParsedConfig, env: EnvironmentName, source: string): string {
    const net = cfg.environments[env].network;
    return `"${source}" is neither inside environments.${env}.network.trustedSources (${net.trustedSources.join(", ")}) nor the ${env} network ${net.cidr}; ${env} guests are reachable only over LAN/VPN and from each other`;
}

/** A published port's own sources obey the same line as the guests' rules. */
export function checkPublishedSources(cfg: ParsedConfig, policy: EnvironmentPolicy, add: Add): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        for (const [svcName, svc] of Object.entries(vm.services)) {
            svc.ports.forEach((p, i) => {
                p.from?.forEach((source, j) => {
                    if (!sourceAllowed(cfg, policy, source)) {
                        add(
                            `vms.${vmName}.services.${svcName}.ports[${i}].from[${j}]`,
                            outsideMessage(cfg, policy.environment, source),
                        );
                    }
                });
            });
        }
    }
}

/** "80,443" or "8000:8010" as [low, high] ranges. */
function portsOf(spec: string): [number, number][] {
    return spec.split(",").map((part) => {
        const [lo, hi] = part.split(":").map(Number) as [number, number | undefined];
        return [lo, hi ?? lo];
    });
}

/** A VM's GPU belongs to the VM's environment. */
export function checkGpuIsolation(cfg: ParsedConfig, env: EnvironmentName, add: Add): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        const gpu = vm.gpu === undefined ? undefined : cfg.nodes[vm.node]?.gpus[vm.gpu];
        if (gpu && gpu.environment !== env) {
            add(
                `vms.${vmName}.gpu`,
                `${vm.gpu} (${gpu.model}) belongs to the ${gpu.environment} environment (nodes.${vm.node}.gpus.${vm.gpu}.environment); a GPU never serves both environments`,
            );
        }
    }
}

/** Where the policy limits publishing: only the proxy publishes, and only the allowed ports. */
export function checkPublishing(cfg: ParsedConfig, policy: EnvironmentPolicy, add: Add): void {
    const ports = policy.publishablePorts;
    if (ports === undefined) return;
    const env = policy.environment;
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        const proxy = Object.entries(vm.services).find(([, s]) => s.proxy !== undefined)?.[0];
        for (const [svcName, svc] of Object.entries(vm.services)) {
            const at = `vms.${vmName}.services.${svcName}`;
            if (!svc.proxy && svc.ports.length > 0) {
                add(
                    `${at}.ports`,
                    `a ${env} service publishes no port; only the proxy does (${ports.join(", ")}): remove ports and add a route to ${proxy ?? "the proxy service"}'s proxy.routes`,
                );
            }
            svc.ports.forEach((p, i) => {
                if (svc.proxy && !ports.includes(p.published)) {
                    add(
                        `${at}.ports[${i}].published`,
                        `the ${env} proxy publishes only ${ports.length > 1 ? `${ports.slice(0, -1).join(", ")} and ${ports[ports.length - 1]}` : ports.join("")}, not ${p.published}; route the service through it instead`,
                    );
                }
            });
        }
    }
}

/** Mounts that hold the Docker socket (/var/run is a link to /run on the guests). */
export const DOCKER_SOCKET_SOURCES: readonly string[] = [
    "/run",
    "/var/run",
    "/run/docker.sock",
    "/var/run/docker.sock",
];

/** Where the policy refuses it, no service mounts the Docker socket, read-only or not. */
export function checkDockerSocket(cfg: ParsedConfig, policy: EnvironmentPolicy, add: Add): void {
    if (policy.dockerSocket === "allowed") return;
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        for (const [svcName, svc] of Object.entries(vm.services)) {
            svc.volumes.forEach((v, i) => {
                if (!DOCKER_SOCKET_SOURCES.includes(v.source.replace(/\/+$/, "") || "/")) return;
                add(
                    `vms.${vmName}.services.${svcName}.volumes[${i}].source`,
                    `${v.source} holds the Docker socket, which gives whoever holds it every container of the VM (read-only does not stop it); a ${policy.environment} service never mounts it: remove the volume`,
                );
            });
        }
    }
}

/** A database or cache serves its own environment only. */
export function checkDataIsolation(cfg: ParsedConfig, env: EnvironmentName, add: Add): void {
    const envCidr = cfg.environments[env].network.cidr;
    for (const [lxcName, lxc] of Object.entries(cfg.containers)) {
        const lists = [
            ["postgres", "database", lxc.postgres?.allowFrom ?? []],
            ["redis", "cache", lxc.redis?.allowFrom ?? []],
        ] as const;
        for (const [key, what, allowFrom] of lists) {
            allowFrom.forEach((net, i) => {
                if (!containsNetwork(parseCidr(envCidr), parseCidr(net))) {
                    add(
                        `containers.${lxcName}.${key}.allowFrom[${i}]`,
                        `${net} is outside the ${env} network ${envCidr}; the ${what} serves its own environment only`,
                    );
                }
            });
        }
    }
}
