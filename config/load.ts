// Reads the stack's configuration once, parses it through the strict schema and the cross-field
// rules, and resolves it into the StackModel. A bad config throws before any resource is registered.

import * as pulumi from "@pulumi/pulumi";
import { secretRefs } from "../lib/secretTemplate";
import { EnvironmentPolicies } from "./policy";
import { resolveStack, StackModel } from "./resolve";
import { ConfigIssue, checkConfig } from "./rules";
import { ENVIRONMENTS, EnvironmentName, ParsedConfig, StackConfigSchema, ConfigKey } from "./schema";
import { schemaIssues } from "./schemaIssues";

export { formatPath, suggestField } from "./schemaIssues";

export const NAMESPACE = "ai-dualstack";

export interface StackSecrets {
    /** `user@realm!tokenid=uuid`, held by the Proxmox provider only. */
    readonly proxmoxApiToken: pulumi.Output<string>;
    /** OpenSSH private key for host commands and snippet uploads. */
    readonly sshPrivateKey: pulumi.Output<string>;
    /** serviceSecrets: the values the services' templates and the data setups name, each a secret. */
    readonly services: Readonly<Record<string, pulumi.Output<string>>>;
    /**
     * The SSH private key in plain text, for the host probe, which logs in before any resource
     * exists (components/host/probe.ts). A function, so that it never lands in an output by accident.
     */
    readonly sshPrivateKeyForProbe: () => string;
}

/** What the program builds from: the resolved model and the stack's secrets. */
export type LoadedStack = StackModel & { readonly secrets: StackSecrets };

/** A configuration the program refuses: every finding, each with its path and fix. */
export class ConfigError extends pulumi.RunError {
    constructor(
        readonly stackName: string,
        readonly issues: readonly ConfigIssue[],
    ) {
        super(formatIssues(stackName, issues));
        this.name = "ConfigError";
    }
}

export function formatIssues(stack: string, issues: readonly ConfigIssue[]): string {
    const lines = issues.map((i) => `  ${NAMESPACE}:${i.path}: ${i.message}`);
    const count = issues.length === 1 ? "1 configuration error" : `${issues.length} configuration errors`;
    return [
        `Stack "${stack}" has ${count}; nothing was registered or changed:`,
        ...lines,
        `Shared host facts (proxmox, nodes, environments) live in Pulumi.yaml; this stack's guests (vms, containers) in Pulumi.${stack}.yaml.`,
    ].join("\n");
}

const SECRET_FORMATS: Record<"proxmoxApiToken" | "sshPrivateKey", { pattern: RegExp; shape: string; example: string }> =
    {
        proxmoxApiToken: {
            pattern:
                /^[^@\s]+@[^!\s]+![A-Za-z][A-Za-z0-9._-]*=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
            shape: "user@realm!tokenid=<uuid>",
            example: `pulumi config set --secret ${NAMESPACE}:proxmoxApiToken 'pulumi@pve!ai-dualstack=<uuid>'`,
        },
        sshPrivateKey: {
            pattern: /^-----BEGIN (OPENSSH|RSA|EC) PRIVATE KEY-----[\s\S]+-----END \1 PRIVATE KEY-----\s*$/,
            shape: "an unencrypted OpenSSH private key",
            example: `pulumi config set --secret ${NAMESPACE}:sshPrivateKey < ~/.ssh/ai-dualstack`,
        },
    };

export const SERVICE_SECRET_EXAMPLE = `pulumi config set --secret --path '${NAMESPACE}:serviceSecrets.<name>' '<value>'`;

/**
 * serviceSecrets: an object of secret names to non-empty strings, held encrypted. Returns the
 * names (never the values) for the services' references; undefined when the shape is wrong.
 */
function checkServiceSecrets(value: unknown, encrypted: boolean, issues: ConfigIssue[]): Set<string> | undefined {
    if (value === undefined) return new Set();
    const fix = `set each with \`${SERVICE_SECRET_EXAMPLE}\``;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        issues.push({ path: "serviceSecrets", message: `must be an object of names to secret strings; ${fix}` });
        return undefined;
    }
    const names = new Set<string>();
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string" || v.length === 0) {
            issues.push({ path: `serviceSecrets.${name}`, message: `must be a non-empty string (not shown); ${fix}` });
        }
        names.add(name);
    }
    if (!encrypted) {
        issues.push({ path: "serviceSecrets", message: `is stored in plain text; set it again with --secret: ${fix}` });
    }
    return names;
}

/** The value of `environment`, or the stack name when it names an environment. */
function resolveEnvironment(stack: string, configured: EnvironmentName | undefined): EnvironmentName | undefined {
    if (configured) return configured;
    return (ENVIRONMENTS as readonly string[]).includes(stack) ? (stack as EnvironmentName) : undefined;
}

/** The raw inputs of a parse: the namespace's keys (objects already JSON-decoded) and the stack name. */
export interface RawConfig {
    stack: string;
    values: Record<string, unknown>;
    /** Keys the engine holds encrypted. */
    secretKeys: ReadonlySet<string>;
}

export type ParseResult =
    { ok: true; config: ParsedConfig & { environment: EnvironmentName } } | { ok: false; issues: ConfigIssue[] };

/**
 * Parses and checks a stack's raw configuration: schema first, then the cross-field rules.
 * Pure: it sees the secrets' plaintext only to check their shape and never returns it.
 */
export function parseStackConfig(raw: RawConfig, policies: EnvironmentPolicies): ParseResult {
    const { proxmoxApiToken, sshPrivateKey, serviceSecrets, ...rest } = raw.values;
    const issues: ConfigIssue[] = [];
    const secretNames = checkServiceSecrets(serviceSecrets, raw.secretKeys.has("serviceSecrets"), issues);

    for (const [key, value] of [
        ["proxmoxApiToken", proxmoxApiToken],
        ["sshPrivateKey", sshPrivateKey],
    ] as const) {
        const format = SECRET_FORMATS[key];
        if (value === undefined) {
            issues.push({ path: key, message: `missing; set it with \`${format.example}\`` });
        } else if (typeof value !== "string" || !format.pattern.test(value)) {
            issues.push({
                path: key,
                message: `is not ${format.shape} (the value is not shown); set it with \`${format.example}\``,
            });
        } else if (!raw.secretKeys.has(key)) {
            issues.push({
                path: key,
                message: `is stored in plain text; set it again with --secret: \`${format.example}\``,
            });
        }
    }

    // reportInput: zod 4 leaves the found value out of an issue unless asked, and a wrong value
    // would then read as a missing one.
    const parsed = StackConfigSchema.safeParse(rest, { reportInput: true });
    if (!parsed.success) return { ok: false, issues: [...issues, ...schemaIssues(parsed.error)] };

    const environment = resolveEnvironment(raw.stack, parsed.data.environment);
    if (!environment) {
        issues.push({
            path: "environment",
            message: `stack "${raw.stack}" is not named after an environment; set \`pulumi config set ${NAMESPACE}:environment private\` (or public)`,
        });
        return { ok: false, issues };
    }
    issues.push(...checkConfig(parsed.data, environment, policies, secretNames));
    if (issues.length > 0) return { ok: false, issues };
    return { ok: true, config: { ...parsed.data, environment } };
}

const OBJECT_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>([
    "proxmox",
    "nodes",
    "environments",
    "vms",
    "containers",
    "serviceSecrets",
]);

/** The namespace's keys as the engine passed them to this process. */
export function readRawConfig(): RawConfig {
    const stack = pulumi.getStack();
    const values: Record<string, unknown> = {};
    const prefix = `${NAMESPACE}:`;
    for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        values[key] = decodeValue(key, text);
    }
    // isConfigSecret is exported by the runtime but missing from its typings.
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    const secretKeys = new Set(Object.keys(values).filter((k) => runtime.isConfigSecret?.(`${prefix}${k}`) ?? true));
    return { stack, values, secretKeys };
}

/** A config value as the engine passes it (objects as JSON text), decoded for the schema. */
export function decodeValue(key: string, text: string): unknown {
    if (!OBJECT_KEYS.has(key as ConfigKey)) return text;
    try {
        return JSON.parse(text);
    } catch {
        // Left as a string, the schema reports "expected object".
        return text;
    }
}

/** One secret Output per name the services use; the parse made sure each exists. */
function serviceSecretOutputs(cfg: pulumi.Config, parsed: ParsedConfig): Record<string, pulumi.Output<string>> {
    const used = new Set([
        ...Object.values(parsed.vms).flatMap((vm) =>
            Object.values(vm.services).flatMap((svc) => Object.values(svc.secretEnvironment).flatMap(secretRefs)),
        ),
        ...Object.values(parsed.containers).flatMap((ct) => [
            ...Object.values(ct.postgres?.databases ?? {}).map((db) => db.passwordSecret),
            ...(ct.redis ? [ct.redis.passwordSecret] : []),
        ]),
    ]);
    if (used.size === 0) return {};
    const all = cfg.requireSecretObject<Record<string, string>>("serviceSecrets");
    const value = (name: string) =>
        all.apply((o) => {
            const v = o[name];
            if (v === undefined) throw new Error(`serviceSecrets.${name} is not set; ${SERVICE_SECRET_EXAMPLE}`);
            return v;
        });
    return Object.fromEntries([...used].sort().map((name) => [name, value(name)]));
}

/** Loads the stack's configuration and resolves it, or throws a ConfigError naming every bad path. */
export function loadStackConfig(policies: EnvironmentPolicies, raw: RawConfig = readRawConfig()): LoadedStack {
    const result = parseStackConfig(raw, policies);
    if (!result.ok) throw new ConfigError(raw.stack, result.issues);
    const cfg = new pulumi.Config(NAMESPACE);
    return {
        ...resolveStack(result.config, raw.stack, policies[result.config.environment]),
        secrets: {
            proxmoxApiToken: cfg.requireSecret("proxmoxApiToken"),
            sshPrivateKey: cfg.requireSecret("sshPrivateKey"),
            services: serviceSecretOutputs(cfg, result.config),
            sshPrivateKeyForProbe: () => String(raw.values["sshPrivateKey"]),
        },
    };
}
