// Rules about a service's `clients` (vms.<vm>.services.<s>.clients): the services that alone reach it,
// on a Docker network of its own (components/workload/spec.ts, serviceNetworks). Whatever would reach
// it from elsewhere is refused: a published port, a proxy route, and another service that names it by
// URL or waits for it without being one of its clients.

import { ParsedConfig, ServiceConfig } from "../schema";
import { Add, list } from "./issues";

/** The hosts of the URLs in a value: `http://searxng:8080/search`, `redis://:{{pw}}@cache:6379/0` → searxng, cache. */
export function urlHosts(value: string): string[] {
    return [...value.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^/?#;\s]*)/g)].flatMap((m) => {
        const authority = m[1] as string;
        const host = authority.slice(authority.lastIndexOf("@") + 1).split(":")[0] as string;
        // A name, not an address: a service of the VM is reached by its name.
        return /^[A-Za-z0-9-]+$/.test(host) && !/^[0-9-]+$/.test(host) ? [host] : [];
    });
}

export function checkClients(cfg: ParsedConfig, add: Add): void {
    for (const [vmName, vm] of Object.entries(cfg.vms)) {
        const names = Object.keys(vm.services);
        const at = (svc: string) => `vms.${vmName}.services.${svc}`;
        for (const [svcName, svc] of Object.entries(vm.services)) {
            if (svc.clients === undefined) continue;
            const only = `${at(svcName)}.clients`;
            svc.clients.forEach((client, i) => {
                if (client === svcName) add(`${only}[${i}]`, "a service is always on its own network; remove it");
                else if (!names.includes(client))
                    add(`${only}[${i}]`, `unknown service "${client}"; services of vm "${vmName}": ${list(names)}`);
            });
            if (svc.ports.length > 0) {
                add(
                    `${at(svcName)}.ports`,
                    `a service with clients is reached by ${list(svc.clients)} alone, and a published port opens it beyond them; remove ports, or remove ${only}`,
                );
            }
            if (svc.proxy) {
                add(
                    only,
                    "the proxy forwards to the services on the VM's shared network, which a service with clients leaves; remove clients",
                );
            }
        }
        for (const [svcName, svc] of Object.entries(vm.services)) {
            checkRoutesTo(vm.services, at, svc, svcName, add);
            checkReachers(vm.services, at, svc, svcName, add);
        }
    }
}

/** No proxy route forwards to a service with clients: the proxy is not one of them. */
function checkRoutesTo(
    services: Readonly<Record<string, ServiceConfig>>,
    at: (svc: string) => string,
    svc: ServiceConfig,
    svcName: string,
    add: Add,
): void {
    svc.proxy?.routes.forEach((route, i) => {
        const target = services[route.service];
        if (target?.clients === undefined || route.service === svcName) return;
        add(
            `${at(svcName)}.proxy.routes[${i}].service`,
            `"${route.service}" is reached by its clients alone (${at(route.service)}.clients: ${list(target.clients)}), and a proxy route would open it beyond them; remove the route, or remove those clients`,
        );
    });
}

/** What names a service with clients by URL (environment, secretEnvironment) or waits for it is one of them. */
function checkReachers(
    services: Readonly<Record<string, ServiceConfig>>,
    at: (svc: string) => string,
    svc: ServiceConfig,
    svcName: string,
    add: Add,
): void {
    const outsider = (target: string) => {
        const clients = services[target]?.clients;
        return target !== svcName && clients !== undefined && !clients.includes(svcName);
    };
    const fix = (target: string) =>
        `add "${svcName}" to ${at(target)}.clients (${list(services[target]?.clients ?? [])})`;
    for (const field of ["environment", "secretEnvironment"] as const) {
        for (const [key, value] of Object.entries(svc[field])) {
            const target = urlHosts(value).find(outsider);
            if (target === undefined) continue;
            add(
                `${at(svcName)}.${field}.${key}`,
                `names "${target}", which only its clients reach, and "${svcName}" is not one of them; ${fix(target)}, or remove the URL`,
            );
        }
    }
    svc.dependsOn.forEach((dep, i) => {
        if (!outsider(dep)) return;
        add(
            `${at(svcName)}.dependsOn[${i}]`,
            `waits for "${dep}", which only its clients reach, and "${svcName}" is not one of them; ${fix(dep)}, or remove the dependency`,
        );
    });
}
