// Rules about the containers of the GPU VMs (vms.<vm>.services): references between services,
// port clashes, GPU reservations, secrets, and what a public VM may publish. Plain functions.

import * as fs from "fs";
import * as path from "path";
import { containsNetwork, parseCidr } from "./net";
import { EnvironmentName, ParsedConfig, ServiceConfig } from "./schema";
import type { ConfigIssue } from "./validate";

/** The repository root: services' `files` are read from under it. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Ports the public proxy may publish: HTTP (redirect, LAN-only routes) and HTTPS. */
export const PUBLIC_PORTS: readonly number[] = [80, 443];

const SECRET_REF = /\{\{([A-Za-z][A-Za-z0-9_-]*)\}\}/g;

/** The serviceSecrets names a secretEnvironment template uses: "x{{a}}y{{b}}" → ["a", "b"]. */
export function secretRefs(template: string): string[] {
    return [...template.matchAll(SECRET_REF)].map((m) => m[1] as string);
}

const unsetSecret = (name: string) =>
    `serviceSecrets.${name} is not set; set it with \`pulumi config set --secret --path 'ai-dualstack:serviceSecrets.${name}' <value>\``;

function list(items: Iterable<string>): string {
    const all = [...items];
    return all.length === 0 ? "none" : all.map((i) => `"${i}"`).join(", ");
}

/** The service that is the VM's reverse proxy, if any. */
export function proxyOf(services: Record<string, ServiceConfig>): [string, ServiceConfig] | undefined {
    return Object.entries(services).find(([, s]) => s.proxy !== undefined);
}

/** The first dependency cycle that starts and ends at `start`, if any. */
function cycleThrough(services: Record<string, ServiceConfig>, start: string): string[] | undefined {
    const walk = (name: string, path: string[]): string[] | undefined => {
        for (const dep of services[name]?.dependsOn ?? []) {
            if (dep === start) return [...path, dep];
            if (!path.includes(dep) && dep in services) {
                const found = walk(dep, [...path, dep]);
                if (found) return found;
            }
        }
        return undefined;
    };
    return walk(start, [start]);
}

/**
 * `secretNames`: the keys of serviceSecrets, or undefined when that key is malformed (reported
 * elsewhere), in which case references are not checked.
 */
export function checkServices(
    cfg: ParsedConfig,
    env: EnvironmentName,
    secretNames: ReadonlySet<string> | undefined,
): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const add = (path: string, message: string) => issues.push({ path, message });

    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        const names = Object.keys(vm.services);
        const known = (ref: string) => names.includes(ref);
        const published = new Map<string, string>();
        let proxy: string | undefined;
        const inCycle = new Set<string>();
        const vmGpuSound = vm.gpu === undefined || cfg.nodes[vm.node]?.gpus[vm.gpu]?.environment === env;
        if (names.length > 0 && vm.network.address === "dhcp") {
            add(
                `vms.${vmName}.network.address`,
                "a VM with services needs a static address: the docker provider connects to it and ports bind to it",
            );
        }

        for (const [svcName, svc] of Object.entries(vm.services)) {
            const at = `vms.${vmName}.services.${svcName}`;

            // A VM whose own GPU is wrong is reported at vms.<vm>.gpu; its services follow that fix.
            if (svc.gpu !== undefined && svc.gpu !== vm.gpu && vmGpuSound) {
                const owner = Object.entries(cfg.vms).find(([, v]) => v.gpu === svc.gpu)?.[0];
                const gpuEnv = Object.values(cfg.nodes).find((n) => n.gpus[svc.gpu as string])?.gpus[svc.gpu]
                    ?.environment;
                const where = owner
                    ? `it is passed through to vm "${owner}"`
                    : gpuEnv
                      ? `it belongs to the ${gpuEnv} environment`
                      : "no node has it";
                add(
                    `${at}.gpu`,
                    vm.gpu === undefined
                        ? `vm "${vmName}" holds no GPU (${where}); remove it, or give the VM one with vms.${vmName}.gpu`
                        : `"${svc.gpu}" is not this VM's GPU (${where}); a container reserves only its own VM's GPU, "${vm.gpu}"`,
                );
            }

            svc.files.forEach((f, i) => {
                if (!fs.existsSync(path.join(PROJECT_ROOT, f.source))) {
                    add(
                        `${at}.files[${i}].source`,
                        `${f.source} does not exist in this repository; add it or fix the path`,
                    );
                }
            });

            svc.dependsOn.forEach((ref, i) => {
                if (ref === svcName) add(`${at}.dependsOn[${i}]`, "a service cannot wait for itself; remove it");
                else if (!known(ref))
                    add(
                        `${at}.dependsOn[${i}]`,
                        `unknown service "${ref}"; services of vm "${vmName}": ${list(names)}`,
                    );
            });

            for (const [key, template] of Object.entries(svc.secretEnvironment)) {
                const refs = secretRefs(template);
                if (key in svc.environment) {
                    add(`${at}.secretEnvironment.${key}`, `${key} is also set in environment; keep it in one place`);
                }
                if (refs.length === 0) {
                    add(
                        `${at}.secretEnvironment.${key}`,
                        `names no secret; write "{{name}}" for serviceSecrets.<name>, or move a plain value to environment`,
                    );
                }
                for (const ref of refs) {
                    if (secretNames !== undefined && !secretNames.has(ref)) {
                        add(`${at}.secretEnvironment.${key}`, unsetSecret(ref));
                    }
                }
            }

            const cycle = inCycle.has(svcName) ? undefined : cycleThrough(vm.services, svcName);
            if (cycle) {
                cycle.forEach((n) => inCycle.add(n));
                add(`${at}.dependsOn`, `services wait for each other in a cycle (${cycle.join(" → ")}); break it`);
            }

            if (svc.proxy) {
                if (proxy !== undefined) {
                    add(`${at}.proxy`, `vm "${vmName}" already has a proxy, "${proxy}"; one VM has one proxy`);
                }
                proxy ??= svcName;
                svc.proxy.routes.forEach((route, i) => {
                    const r = `${at}.proxy.routes[${i}]`;
                    if (!known(route.service)) {
                        add(
                            `${r}.service`,
                            `unknown service "${route.service}"; services of vm "${vmName}": ${list(names)}`,
                        );
                    } else if (route.service === svcName) {
                        add(`${r}.service`, "the proxy cannot forward to itself");
                    }
                    if (!route.tls && !route.trustedOnly) {
                        add(
                            `${r}.trustedOnly`,
                            `plain HTTP is for the trusted networks only (environments.${env}.network.trustedSources); set trustedOnly: true or tls: true`,
                        );
                    }
                });
            }

            if (env === "public" && !svc.proxy && svc.ports.length > 0) {
                add(
                    `${at}.ports`,
                    `a public service publishes no port; only the proxy does (80, 443): remove ports and add a route to ${proxy ?? proxyOf(vm.services)?.[0] ?? "the proxy service"}'s proxy.routes`,
                );
            }
            svc.ports.forEach((p, i) => {
                if (env === "public" && svc.proxy && !PUBLIC_PORTS.includes(p.published)) {
                    add(
                        `${at}.ports[${i}].published`,
                        `the public proxy publishes only ${PUBLIC_PORTS.join(" and ")}, not ${p.published}; route the service through it instead`,
                    );
                }
                const key = `${p.published}/${p.protocol}`;
                const seen = published.get(key);
                if (seen) {
                    add(
                        `${at}.ports[${i}].published`,
                        `${key} is already published by service "${seen}"; pick another`,
                    );
                }
                published.set(key, svcName);
            });
        }
    }
    for (const [ctName, ct] of Object.entries(cfg.containers)) {
        const at = `containers.${ctName}`;
        if (ct.postgres && ct.role !== "postgresql") {
            add(`${at}.postgres`, `only a container with role postgresql runs PostgreSQL (this one is ${ct.role})`);
        }
        if ((ct.postgres || ct.redis) && ct.network.address === "dhcp") {
            add(
                `${at}.network.address`,
                "a container with a postgres or redis setup needs a static address: the setup connects to it",
            );
        }
        if (ct.redis && ct.role !== "redis") {
            add(`${at}.redis`, `only a container with role redis runs Redis (this one is ${ct.role})`);
        }
        const named = [
            ...Object.entries(ct.postgres?.databases ?? {}).map(
                ([db, x]) => [`${at}.postgres.databases.${db}.passwordSecret`, x.passwordSecret] as const,
            ),
            ...(ct.redis ? [[`${at}.redis.passwordSecret`, ct.redis.passwordSecret] as const] : []),
        ];
        for (const [path, name] of named) {
            if (secretNames !== undefined && !secretNames.has(name)) {
                add(path, unsetSecret(name));
            }
        }
        const envNet = parseCidr(cfg.environments[env].network.cidr);
        ct.postgres?.allowFrom.forEach((net, i) => {
            if (!containsNetwork(envNet, parseCidr(net))) {
                add(
                    `${at}.postgres.allowFrom[${i}]`,
                    `${net} is outside the ${env} network ${cfg.environments[env].network.cidr}; the database serves its own environment only`,
                );
            }
        });
    }
    return issues;
}
