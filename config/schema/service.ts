// The containers of a GPU VM (vms.<vm>.services), deployed by components/workload/.

import { z } from "zod";
import { cidr, d, flag, secretTemplate } from "./fields";

/** A reference image name with a pinned tag and/or digest; `:latest` and bare names are refused. */
export const PINNED_IMAGE =
    /^(?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$/;

/**
 * The proxy's entrypoint for its plain (tls: false) routes, inside its container: a port of its own,
 * apart from the 80 and 443 the router forwards from the internet, so that Ollama and the exporters
 * are not on an internet-facing port at all, whatever Host header a request sends. Traefik listens
 * on it; the proxy publishes it to the trusted networks and the monitoring host alone.
 */
export const TRUSTED_ENTRYPOINT_PORT = 8480;

const port = z.number().int().min(1, "ports run 1-65535").max(65535, "ports run 1-65535");
const envName = z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name such as OLLAMA_HOST");
export const serviceRef = z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must name a service of this VM (a key of vms.<vm>.services), such as "ollama"');
const seconds = (what: string, fallback: number) =>
    z.number().int().positive("must be more than 0 seconds").default(fallback).meta(d(what));

export const ServiceSchema = z.strictObject({
    image: z
        .string()
        .regex(
            PINNED_IMAGE,
            'must pin a tag or digest, never :latest, such as "ollama/ollama:0.11.4" or "caddy@sha256:<64 hex>"',
        )
        .meta(d("The image, pinned by tag or digest (`:latest` is refused).")),
    command: z.array(z.string()).optional().meta(d("Arguments replacing the image's CMD.")),
    environment: z
        .record(envName, z.string())
        .default({})
        .meta(d("Plain environment variables; they appear in the rendered compose file. No secrets here.")),
    secretEnvironment: z
        .record(envName, secretTemplate())
        .default({})
        .meta(
            d(
                'Environment variables built from serviceSecrets: each value is a template such as "{{qdrantApiKey}}" or "postgresql://webui:{{postgresPassword}}@10.10.10.20/webui". They stay Pulumi secrets and go to an env file, never into the compose file.',
            ),
        ),
    ports: z
        .array(
            z.strictObject({
                published: port.meta(d("Port on the VM. Private: bound to the VM's address only.")),
                target: port.meta(d("Port inside the container.")),
                protocol: z.enum(["tcp", "udp"]).default("tcp").meta(d("Protocol.")),
                from: z
                    .array(z.union([z.literal("any"), cidr]))
                    .min(1, "name at least one network, or leave from out")
                    .optional()
                    .meta(
                        d(
                            'Who may connect (the VM\'s firewall): CIDRs, or "any" on public. Default: private, its trustedSources; public, anyone. Private sources lie inside trustedSources or the environment\'s network, such as the monitoring container "10.10.10.24/32" for an exporter.',
                        ),
                    ),
            }),
        )
        .default([])
        .meta(
            d(
                `Published ports. On public VMs only the proxy service may publish, and only 80, 443 and ${TRUSTED_ENTRYPOINT_PORT} (its plain routes, from the trusted networks and the monitoring host).`,
            ),
        ),
    volumes: z
        .array(
            z.strictObject({
                source: z
                    .string()
                    .regex(
                        /^(\/[^\s:]*|[a-z][a-z0-9_-]*)$/,
                        'must be a volume name such as "models" or an absolute host path such as "/sys"',
                    )
                    .meta(
                        d(
                            "A named volume (created per VM, kept on destroy of the container) or an absolute host path.",
                        ),
                    ),
                target: z
                    .string()
                    .regex(/^\/\S*$/, "must be an absolute path in the container")
                    .meta(d("Mount point in the container.")),
                readOnly: flag(false, "Mount read-only."),
            }),
        )
        .default([])
        .meta(d("Mounts.")),
    files: z
        .array(
            z.strictObject({
                source: z
                    .string()
                    .regex(
                        /^container-files\/[A-Za-z0-9._/-]+$/,
                        'must be a file under container-files/ in this repository, such as "container-files/rag-ingest.py"',
                    )
                    .meta(d("A file of this repository, under container-files/.")),
                target: z
                    .string()
                    .regex(/^\/\S*$/, "must be an absolute path in the container")
                    .meta(d("Where it appears in the container.")),
            }),
        )
        .default([])
        .meta(
            d(
                "Files of this repository placed into the container (Docker uploads; inline configs in the compose file).",
            ),
        ),
    gpu: z
        .string()
        .optional()
        .meta(d("Reserve the VM's GPU (its nodes.<node>.gpus key, the same as vms.<vm>.gpu) for this container.")),
    healthcheck: z
        .strictObject({
            test: z
                .array(z.string())
                .min(2, 'must be ["CMD", ...] or ["CMD-SHELL", "..."]')
                .refine((t) => t[0] === "CMD" || t[0] === "CMD-SHELL", 'must start with "CMD" or "CMD-SHELL"')
                .meta(d('The probe: ["CMD", "ollama", "list"] or ["CMD-SHELL", "curl -f http://localhost/"].')),
            intervalSeconds: seconds("Time between probes.", 30),
            timeoutSeconds: seconds("How long one probe may take.", 10),
            retries: z.number().int().positive().default(3).meta(d("Failures before unhealthy.")),
            startPeriodSeconds: seconds("Grace period after start.", 30),
        })
        .meta(d("How Docker tells that the service works; every service needs one.")),
    restart: z
        .enum(["no", "always", "unless-stopped", "on-failure"])
        .default("unless-stopped")
        .meta(d("Restart policy.")),
    limits: z
        .strictObject({
            cpus: z.number().positive().optional().meta(d("CPUs the container may use.")),
            memoryGiB: z.number().positive().optional().meta(d("Memory limit.")),
        })
        .default({})
        .meta(d("Resource limits.")),
    dependsOn: z.array(serviceRef).default([]).meta(d("Services of this VM that must be healthy first.")),
    clients: z
        .array(serviceRef)
        .optional()
        .meta(
            d(
                "The only services of this VM that may reach this one. Set, the service leaves the VM's shared Docker network for a network of its own (`<vm>-<service>-net`, with egress), joined by itself, these clients and its dependsOn alone; it may then publish no port nor be a proxy route. Unset: every service of the VM reaches it.",
            ),
        ),
    proxy: z
        .strictObject({
            acmeEmail: z.email("must be an e-mail address for Let's Encrypt").meta(d("Let's Encrypt account e-mail.")),
            rateLimit: z
                .strictObject({
                    average: z.number().int().positive().default(20).meta(d("Requests per second per client IP.")),
                    burst: z.number().int().positive().default(50).meta(d("Burst above the average.")),
                })
                .default({ average: 20, burst: 50 })
                .meta(d("Rate limit on every TLS route, per client IP.")),
            loginRateLimit: z
                .strictObject({
                    perMinute: z
                        .number()
                        .int()
                        .positive()
                        .default(10)
                        .meta(d("Requests per minute per client IP to a route's loginPaths.")),
                    burst: z.number().int().positive().default(5).meta(d("Burst above it.")),
                })
                .default({ perMinute: 10, burst: 5 })
                .meta(d("The stricter limit on login endpoints (password guessing), per client IP.")),
            routes: z
                .array(
                    z.strictObject({
                        host: z
                            .string()
                            .regex(
                                /^[A-Za-z0-9.-]+$/,
                                'must be a host name such as "chat.example.com" or an IP address',
                            )
                            .meta(d("Host name (TLS via Let's Encrypt) or the VM's own address (plain HTTP).")),
                        pathPrefix: z
                            .string()
                            .regex(/^\/[A-Za-z0-9._/-]*$/, 'must start with "/"')
                            .optional()
                            .meta(d("Only this path (stripped before forwarding).")),
                        service: serviceRef.meta(d("The service it forwards to.")),
                        port: port.meta(d("The service's port inside the VM network.")),
                        tls: flag(
                            true,
                            `HTTPS on 443 with a Let's Encrypt certificate; false serves plain HTTP on the proxy's trusted entrypoint (container port ${TRUSTED_ENTRYPOINT_PORT}), never on the internet-facing 80.`,
                        ),
                        trustedOnly: flag(
                            false,
                            "Only environments.<env>.network.trustedSources may use it; others get 403.",
                        ),
                        loginPaths: z
                            .array(z.string().regex(/^\/[A-Za-z0-9._/-]*$/, 'must start with "/"'))
                            .default([])
                            .meta(
                                d(
                                    'Paths that take a password, such as Open WebUI\'s "/api/v1/auths/signin": they get proxy.loginRateLimit.',
                                ),
                            ),
                    }),
                )
                .min(1, "add at least one route")
                .meta(d("What the proxy forwards.")),
        })
        .optional()
        .meta(d("Makes this service the VM's reverse proxy (Traefik): TLS, rate limiting, routes.")),
});

export type ServiceConfig = z.infer<typeof ServiceSchema>;

/**
 * Where a proxy's plain routes answer on the VM's address: the published TCP port that targets its
 * trusted entrypoint; undefined when it does not publish one.
 */
export function trustedEntrypointPort(proxy: Pick<ServiceConfig, "ports">): number | undefined {
    return proxy.ports.find((p) => p.target === TRUSTED_ENTRYPOINT_PORT && p.protocol === "tcp")?.published;
}
