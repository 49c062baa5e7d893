// The reverse proxy (Traefik v3) of a VM that has one: its static configuration as arguments, and its
// routes as a file: TLS with Let's Encrypt, per-IP rate limits, trusted-only plain routes.

import { stringify } from "yaml";
import { ServiceConfig } from "../../config/schema";
import { WorkloadSpec } from "./spec";

/** Where the proxy finds its routes inside its container. */
export const TRAEFIK_DYNAMIC_FILE = "/etc/traefik/dynamic.yml";
export const ACME_STORAGE = "/letsencrypt/acme.json";

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
