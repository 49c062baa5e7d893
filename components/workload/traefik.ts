// The reverse proxy (Traefik v3) of a VM that has one: its static configuration as arguments, and its
// routes as a file: TLS with Let's Encrypt and security headers (HSTS), per-IP rate limits (a
// stricter one on login paths), trusted-only plain routes on an entrypoint of their own.

import { stringify } from "yaml";
import { EXPORTER_IMAGES } from "../../config/resolve/monitoring";
import { ServiceConfig, TRUSTED_ENTRYPOINT_PORT } from "../../config/schema";
import { WorkloadSpec } from "./spec";

/** Where the proxy finds its routes inside its container. */
export const TRAEFIK_DYNAMIC_FILE = "/etc/traefik/dynamic.yml";
export const ACME_STORAGE = "/letsencrypt/acme.json";

/**
 * What every TLS route sends: HSTS for a year (browsers then refuse plain HTTP and certificate
 * warnings for the host), no MIME sniffing, no framing by other sites, no full referrer to them.
 */
export const SECURITY_HEADERS = {
    stsSeconds: 31536000,
    stsIncludeSubdomains: false,
    contentTypeNosniff: true,
    frameDeny: true,
    referrerPolicy: "strict-origin-when-cross-origin",
    customResponseHeaders: { "X-Powered-By": "", Server: "" },
} as const;

const routeRule = (r: { host: string; pathPrefix?: string | undefined }) =>
    r.pathPrefix ? `Host(\`${r.host}\`) && PathPrefix(\`${r.pathPrefix}\`)` : `Host(\`${r.host}\`)`;

/** The entrypoint of the plain routes, which the router does not forward (TRUSTED_ENTRYPOINT_PORT). */
export const TRUSTED_ENTRYPOINT = "trusted";

export function traefikArgs(proxy: NonNullable<ServiceConfig["proxy"]>): string[] {
    const plain = proxy.routes.some((r) => !r.tls);
    return [
        "--entrypoints.web.address=:80",
        "--entrypoints.websecure.address=:443",
        // Only when a route uses it: a proxy without plain routes listens on nothing but 80 and 443.
        ...(plain ? [`--entrypoints.${TRUSTED_ENTRYPOINT}.address=:${TRUSTED_ENTRYPOINT_PORT}`] : []),
        `--providers.file.filename=${TRAEFIK_DYNAMIC_FILE}`,
        `--certificatesresolvers.le.acme.email=${proxy.acmeEmail}`,
        `--certificatesresolvers.le.acme.storage=${ACME_STORAGE}`,
        "--certificatesresolvers.le.acme.httpchallenge.entrypoint=web",
        "--ping=true",
        "--accesslog=true",
        "--api.dashboard=false",
    ];
}

/** Whether a service runs one of the exporters the monitoring host scrapes. */
function isExporter(spec: WorkloadSpec, service: string): boolean {
    const image = spec.services[service]?.image ?? "";
    return EXPORTER_IMAGES[image.split(":")[0] ?? ""] !== undefined;
}

/**
 * The proxy's routes: TLS routes on 443 with a Let's Encrypt certificate, plain routes on the
 * trusted entrypoint only (never on the internet-facing 80, where a forged Host header would
 * otherwise reach them), every route rate-limited per client IP, and everything on 80 redirected
 * to HTTPS.
 */
export function traefikDynamicConfig(spec: WorkloadSpec, proxy: NonNullable<ServiceConfig["proxy"]>): string {
    const middlewares: Record<string, unknown> = {
        "rate-limit": { rateLimit: { average: proxy.rateLimit.average, burst: proxy.rateLimit.burst } },
        "login-rate-limit": {
            rateLimit: { average: proxy.loginRateLimit.perMinute, period: "1m", burst: proxy.loginRateLimit.burst },
        },
        "trusted-only": { ipAllowList: { sourceRange: [...spec.trustedSources] } },
        // The monitoring host reaches the exporters' routes, and no other trusted-only route.
        ...(spec.metricsSources.length > 0
            ? {
                  "trusted-or-monitoring": {
                      ipAllowList: { sourceRange: [...spec.trustedSources, ...spec.metricsSources] },
                  },
              }
            : {}),
        "to-https": { redirectScheme: { scheme: "https", permanent: true } },
        "security-headers": { headers: SECURITY_HEADERS },
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
        // Browsers get HSTS and the hardening headers over TLS; plain trusted-only routes serve tools.
        const allow =
            spec.metricsSources.length > 0 && isExporter(spec, route.service)
                ? "trusted-or-monitoring"
                : "trusted-only";
        const chain = [...(route.trustedOnly ? [allow] : []), ...(route.tls ? ["security-headers"] : [])];
        const strip = route.pathPrefix ? [`${id}-strip`] : [];
        if (route.pathPrefix) middlewares[`${id}-strip`] = { stripPrefix: { prefixes: [route.pathPrefix] } };
        const base = {
            entryPoints: [route.tls ? "websecure" : TRUSTED_ENTRYPOINT],
            service: backend,
            ...(route.tls ? { tls: { certResolver: "le" } } : {}),
        };
        routers[id] = { ...base, rule: routeRule(route), middlewares: [...chain, "rate-limit", ...strip] };
        if (route.loginPaths.length > 0) {
            // Longer rules win in Traefik; the priority makes it explicit: logins take the strict limit.
            routers[`${id}-login`] = {
                ...base,
                rule: `${routeRule(route)} && (${route.loginPaths.map((p) => `Path(\`${p}\`)`).join(" || ")})`,
                priority: 1000,
                middlewares: [...chain, "login-rate-limit", ...strip],
            };
        }
    });
    return stringify({ http: { middlewares, routers, services } }, { lineWidth: 0 });
}
