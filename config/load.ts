// Reads the stack's configuration once, parses it through the strict schema and the cross-field
// rules, and resolves it into the StackModel. A bad config throws before any resource is registered.

import * as pulumi from "@pulumi/pulumi";
import { withMonitoring } from "./monitoring";
import { EnvironmentPolicies } from "./policy";
import { resolveStack, StackModel } from "./resolve";
import { ConfigIssue, checkConfig } from "./rules";
import { findPlaceholders } from "./rules/placeholders";
import { ENVIRONMENTS, EnvironmentName, ParsedConfig, StackConfigSchema, ConfigKey } from "./schema";
import { schemaIssues } from "./schemaIssues";
import { NAMESPACE, SECRET_KEYS, StackSecrets, checkKeySecrets, checkServiceSecrets, stackSecrets } from "./secrets";

export { NAMESPACE, SERVICE_SECRET_EXAMPLE } from "./secrets";
export type { StackSecrets } from "./secrets";

export { formatPath, suggestField } from "./schemaIssues";

/** What the program builds from: the resolved model, the stack's secrets, and the example values left in it. */
export type LoadedStack = StackModel & {
    readonly secrets: StackSecrets;
    /** The repository's example values still in the config (rules/placeholders.ts): a plan warns, an up refuses. */
    readonly placeholders: readonly ConfigIssue[];
};

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
    const rest = Object.fromEntries(
        Object.entries(raw.values).filter(([key]) => !(SECRET_KEYS as readonly string[]).includes(key)),
    );
    const issues: ConfigIssue[] = [];
    const secretNames = checkServiceSecrets(raw.values["serviceSecrets"], raw.secretKeys.has("serviceSecrets"), issues);
    issues.push(...checkKeySecrets(raw.values, raw.secretKeys));

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
    "backup",
    "vms",
    "containers",
    "monitoring",
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

/** Loads the stack's configuration and resolves it, or throws a ConfigError naming every bad path. */
export function loadStackConfig(policies: EnvironmentPolicies, raw: RawConfig = readRawConfig()): LoadedStack {
    const result = parseStackConfig(raw, policies);
    if (!result.ok) throw new ConfigError(raw.stack, result.issues);
    return {
        ...withMonitoring(resolveStack(result.config, raw.stack, policies[result.config.environment]), result.config),
        secrets: stackSecrets(result.config, raw.values),
        placeholders: findPlaceholders(result.config),
    };
}
