// Rules about the containers of the GPU VMs (vms.<vm>.services) and the data layer in the service
// containers: references between services, port clashes, GPU reservations, files, secrets and the
// reverse proxy's routes. What an environment may publish is an isolation rule (isolation.ts).

import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { cycleThrough } from "../../lib/graph";
import { containsNetwork, parseCidr } from "../../lib/ipv4";
import { PROJECT_ROOT } from "../../lib/paths";
import { secretRefs } from "../../lib/secretTemplate";
import {
    EnvironmentName,
    NAMESPACE,
    ParsedConfig,
    ServiceConfig,
    TRUSTED_ENTRYPOINT_PORT,
    VmConfig,
    trustedEntrypointPort,
} from "../schema";
import { Add, list } from "./issues";

/** The service the program knows as Ollama (the gate's endpoint, the workload's ollama output). */
export const OLLAMA_SERVICE = "ollama";

/** The names the services' `dependsOn` form a graph of. */
export function serviceGraph(services: Readonly<Record<string, ServiceConfig>>): Record<string, string[]> {
    return Object.fromEntries(Object.entries(services).map(([n, s]) => [n, s.dependsOn]));
}

interface VmScope {
    cfg: ParsedConfig;
    env: EnvironmentName;
    vmName: string;
    vm: VmConfig;
    /** The keys of serviceSecrets; undefined when that key is malformed (reported elsewhere). */
}

export function checkWorkloads(cfg: ParsedConfig, env: EnvironmentName, add: Add): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        const scope: VmScope = { cfg, env, vmName, vm };
        if (Object.keys(vm.services).length > 0 && vm.network.address === "dhcp") {
            add(
                `vms.${vmName}.network.address`,
                "a VM with services needs a static address: the docker provider connects to it and ports bind to it",
            );
        }
        const inCycle = new Set<string>();
        for (const [svcName, svc] of Object.entries(vm.services)) {
            const at = `vms.${vmName}.services.${svcName}`;
            checkServiceGpu(scope, svc, at, add);
            checkReferences(scope, svcName, svc, at, add);
            checkSecretEnvironment(svc, at, add);
            checkPlainEnvironment(svc, at, add);
            checkAdminAccount(svc, at, add);
            const cycle = inCycle.has(svcName) ? undefined : cycleThrough(serviceGraph(vm.services), svcName);
            if (cycle) {
                cycle.forEach((n) => inCycle.add(n));
                add(`${at}.dependsOn`, `services wait for each other in a cycle (${cycle.join(" → ")}); break it`);
            }
        }
        checkProxies(scope, add);
        checkPortClashes(vmName, vm, add);
    }
    checkDataLayer(cfg, add);
}

/** A container reserves only its own VM's GPU. A VM whose own GPU is wrong is reported at vms.<vm>.gpu. */
function checkServiceGpu({ cfg, env, vmName, vm }: VmScope, svc: ServiceConfig, at: string, add: Add): void {
    const vmGpuSound = vm.gpu === undefined || cfg.nodes[vm.node]?.gpus[vm.gpu]?.environment === env;
    if (svc.gpu === undefined || svc.gpu === vm.gpu || !vmGpuSound) return;
    const wanted = svc.gpu;
    const owner = Object.entries(cfg.vms).find(([, v]) => v.gpu === wanted)?.[0];
    const gpuEnv = Object.values(cfg.nodes).find((n) => n.gpus[wanted])?.gpus[wanted]?.environment;
    const where = owner
        ? `it is passed through to vm "${owner}"`
        : gpuEnv
          ? `it belongs to the ${gpuEnv} environment`
          : "no node has it";
    add(
        `${at}.gpu`,
        vm.gpu === undefined
            ? `vm "${vmName}" holds no GPU (${where}); remove it, or give the VM one with vms.${vmName}.gpu`
            : `"${wanted}" is not this VM's GPU (${where}); a container reserves only its own VM's GPU, "${vm.gpu}"`,
    );
}

/** Files exist in the repository; dependencies name other services of the VM. */
function checkReferences({ vmName, vm }: VmScope, svcName: string, svc: ServiceConfig, at: string, add: Add): void {
    const names = Object.keys(vm.services);
    svc.files.forEach((f, i) => {
        if (!fs.existsSync(path.join(PROJECT_ROOT, f.source))) {
            add(`${at}.files[${i}].source`, `${f.source} does not exist in this repository; add it or fix the path`);
        }
    });
    svc.dependsOn.forEach((ref, i) => {
        if (ref === svcName) add(`${at}.dependsOn[${i}]`, "a service cannot wait for itself; remove it");
        else if (!names.includes(ref))
            add(`${at}.dependsOn[${i}]`, `unknown service "${ref}"; services of vm "${vmName}": ${list(names)}`);
    });
}

/** A name that usually holds a secret: *_KEY, *TOKEN*, *PASSWORD*, *SECRET* (read on envWords). */
const SECRET_NAME = /(^|_)KEY$|TOKEN|PASSW(OR)?D|SECRET/;
/** ...unless it names a kind, a place or a switch (CHROMA_AUTH_TOKEN_TRANSPORT_HEADER, API_KEY_FILE). */
const DESCRIBES_ONE =
    /_(HEADER|PROVIDER|FILE|PATH|DIR|TYPE|METHOD|MODE|ENABLED|EXPIRES?|EXPIRY|TTL|LENGTH|NAME|URL)$|^(ENABLE|DISABLE)_/;
const SWITCH = /^(true|false|yes|no|on|off|0|1)$/i;

/** `MY_API_KEY` → `myApiKey`, the serviceSecrets name a message suggests. */
export function secretNameFor(envName: string): string {
    return envName.toLowerCase().replace(/_+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** `apiKey`, `client_secret`, `API_KEY` → `API_KEY`, `CLIENT_SECRET`: the words the patterns read, whatever the case. */
export function envWords(envName: string): string {
    return envName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** A plain value whose name says secret would land in the compose file, the plan and the state. */
function checkPlainEnvironment(svc: ServiceConfig, at: string, add: Add): void {
    for (const [key, value] of Object.entries(svc.environment)) {
        const words = envWords(key);
        if (!SECRET_NAME.test(words) || DESCRIBES_ONE.test(words) || SWITCH.test(value)) continue;
        const name = secretNameFor(words);
        add(
            `${at}.environment.${key}`,
            `${key} looks like a secret, and a plain value shows in the compose file, the plan and the state; move it to secretEnvironment as ${key}: "{{${name}}}" and store the value with \`pulumi config set --secret --path '${NAMESPACE}:serviceSecrets.${name}'\` (it asks for it)`,
        );
    }
}

/**
 * Open WebUI (v0.7+) creates its first admin from WEBUI_ADMIN_EMAIL and WEBUI_ADMIN_PASSWORD
 * together: a name that is no address, or an address without its password, leaves no admin.
 */
function checkAdminAccount(svc: ServiceConfig, at: string, add: Add): void {
    const email = svc.environment["WEBUI_ADMIN_EMAIL"];
    if (email === undefined) return;
    if (!z.email().safeParse(email).success) {
        add(
            `${at}.environment.WEBUI_ADMIN_EMAIL`,
            `"${email}" is not an e-mail address, and Open WebUI signs its first admin in with one; write the admin's address, such as you@your-domain.net`,
        );
    }
    const password = "WEBUI_ADMIN_PASSWORD";
    if (password in svc.secretEnvironment || password in svc.environment) return;
    add(
        `${at}.secretEnvironment.${password}`,
        `missing: Open WebUI creates the admin WEBUI_ADMIN_EMAIL names only together with its password, so no admin would exist; add ${password}: "{{webuiAdminPassword}}" and store the value with \`pulumi config set --secret --path '${NAMESPACE}:serviceSecrets.webuiAdminPassword'\` (it asks for it)`,
    );
}

function checkSecretEnvironment(svc: ServiceConfig, at: string, add: Add): void {
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
    }
}

/** One proxy per VM; its routes name other services, and plain HTTP only for trusted networks. */
function checkProxies(scope: VmScope, add: Add): void {
    const { env, vmName, vm } = scope;
    const names = Object.keys(vm.services);
    let proxy: string | undefined;
    for (const [svcName, svc] of Object.entries(vm.services)) {
        if (!svc.proxy) continue;
        const at = `vms.${vmName}.services.${svcName}`;
        if (proxy !== undefined) {
            add(`${at}.proxy`, `vm "${vmName}" already has a proxy, "${proxy}"; one VM has one proxy`);
        }
        proxy ??= svcName;
        svc.proxy.routes.forEach((route, i) => {
            const r = `${at}.proxy.routes[${i}]`;
            if (!names.includes(route.service)) {
                add(`${r}.service`, `unknown service "${route.service}"; services of vm "${vmName}": ${list(names)}`);
            } else if (route.service === svcName) {
                add(`${r}.service`, "the proxy cannot forward to itself");
            }
            if (route.service === OLLAMA_SERVICE && !route.trustedOnly) {
                add(
                    `${r}.trustedOnly`,
                    `Ollama's API has no authentication of its own: only the trusted networks (environments.${env}.network.trustedSources) may reach it; set trustedOnly: true`,
                );
            } else if (!route.tls && !route.trustedOnly) {
                add(
                    `${r}.trustedOnly`,
                    `plain HTTP is for the trusted networks only (environments.${env}.network.trustedSources); set trustedOnly: true or tls: true`,
                );
            }
        });
        checkTrustedEntrypoint(scope, at, svc, add);
    }
}

/**
 * The proxy's plain routes answer on its trusted entrypoint, a port the router never forwards: the
 * proxy publishes it, and only to the trusted networks and the monitoring host, named by hand (the
 * public default, anyone, would put Ollama back on the internet).
 */
function checkTrustedEntrypoint({ cfg, env }: VmScope, at: string, svc: ServiceConfig, add: Add): void {
    const net = cfg.environments[env].network;
    const monitoring = cfg.monitoring ? [`${cfg.monitoring.address}/32`] : [];
    const allowed = [...net.trustedSources, ...monitoring];
    const fix = `{ published: ${TRUSTED_ENTRYPOINT_PORT}, target: ${TRUSTED_ENTRYPOINT_PORT}, from: [${allowed.join(", ")}] }`;
    if (svc.proxy?.routes.some((r) => !r.tls) && trustedEntrypointPort(svc) === undefined) {
        add(
            `${at}.ports`,
            `plain routes (tls: false) answer only on the proxy's trusted entrypoint, container port ${TRUSTED_ENTRYPOINT_PORT}, which it does not publish; add ${fix}`,
        );
    }
    const inside = (source: string) =>
        source !== "any" &&
        (monitoring.includes(source) ||
            net.trustedSources.some((t) => containsNetwork(parseCidr(t), parseCidr(source))));
    svc.ports.forEach((p, i) => {
        if (p.target !== TRUSTED_ENTRYPOINT_PORT || p.protocol !== "tcp") return;
        if (p.from === undefined) {
            add(
                `${at}.ports[${i}].from`,
                `the trusted entrypoint names who may reach it: from: [${allowed.join(", ")}]`,
            );
        }
        p.from?.forEach((source, j) => {
            if (inside(source)) return;
            add(
                `${at}.ports[${i}].from[${j}]`,
                `"${source}" would reach the proxy's trusted entrypoint (Ollama, the exporters); only environments.${env}.network.trustedSources (${net.trustedSources.join(", ")})${monitoring.length > 0 ? ` and the monitoring host ${monitoring[0]}` : ""} may`,
            );
        });
    });
}

function checkPortClashes(vmName: string, vm: VmConfig, add: Add): void {
    const published = new Map<string, string>();
    for (const [svcName, svc] of Object.entries(vm.services)) {
        svc.ports.forEach((p, i) => {
            const key = `${p.published}/${p.protocol}`;
            const seen = published.get(key);
            if (seen) {
                add(
                    `vms.${vmName}.services.${svcName}.ports[${i}].published`,
                    `${key} is already published by service "${seen}"; pick another`,
                );
            }
            published.set(key, svcName);
        });
    }
}

/** PostgreSQL and Redis only in containers of their role, at a static address, with their secrets set. */
function checkDataLayer(cfg: ParsedConfig, add: Add): void {
    for (const [lxcName, lxc] of Object.entries(cfg.containers)) {
        const at = `containers.${lxcName}`;
        if (lxc.postgres && lxc.role !== "postgresql") {
            add(`${at}.postgres`, `only a container with role postgresql runs PostgreSQL (this one is ${lxc.role})`);
        }
        if ((lxc.postgres || lxc.redis) && lxc.network.address === "dhcp") {
            add(
                `${at}.network.address`,
                "a container with a postgres or redis setup needs a static address: the setup connects to it",
            );
        }
        if (lxc.redis && lxc.role !== "redis") {
            add(`${at}.redis`, `only a container with role redis runs Redis (this one is ${lxc.role})`);
        }
        if (lxc.redis && lxc.redis.allowFrom.length === 0) {
            add(
                `${at}.redis.allowFrom`,
                'nothing may connect to this Redis: its firewall opens 6379 only to the networks listed here; add the guests that use it, such as "10.10.10.10/32"',
            );
        }
    }
}
