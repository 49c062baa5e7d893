// Reads the stack's configuration once, parses it through the strict schema and the cross-field
// rules, and resolves it into the StackModel. A bad config throws before any resource is registered.

import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { z } from "zod";
import { PROJECT_ROOT } from "../lib/paths";
import { checkProjectFileSecrets, checkStackFileKeys } from "./files";
import { EnvironmentPolicies } from "./policy";
import { PeerStack, resolveStack, StackModel } from "./resolve";
import { ConfigIssue, checkConfig } from "./rules";
import { findPlaceholders } from "./rules/placeholders";
import { ENVIRONMENTS, EnvironmentName, ParsedConfig, StackConfigSchema, ConfigKey } from "./schema";
import { schemaIssues } from "./schemaIssues";
import { NAMESPACE, SECRET_KEYS, StackSecrets, checkKeySecrets, checkServiceSecrets, stackSecrets } from "./secrets";
import { SecretUse, secretNames, secretUses } from "./secretUses";

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

/** A finding's path as the user reads it: a key under the namespace, or a whole file (Pulumi.<stack>.yaml). */
export function qualifiedPath(path: string): string {
    return /^Pulumi(\.[^.]+)?\.yaml$/.test(path) ? path : `${NAMESPACE}:${path}`;
}

export function formatIssues(stack: string, issues: readonly ConfigIssue[]): string {
    const lines = issues.map((i) => `  ${qualifiedPath(i.path)}: ${i.message}`);
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
    | { ok: true; config: ParsedConfig & { environment: EnvironmentName }; peers: readonly PeerStack[] }
    | { ok: false; issues: ConfigIssue[] };

type SchemaResult =
    { ok: true; config: ParsedConfig & { environment: EnvironmentName } } | { ok: false; issues: ConfigIssue[] };

/**
 * The schema step alone, on every key but the secret ones: this stack's and its peers' files alike,
 * and the doctor's view of a stack (tools/doctor.ts).
 */
export function parseSchema(raw: RawConfig): SchemaResult {
    const rest = Object.fromEntries(
        Object.entries(raw.values).filter(([key]) => !(SECRET_KEYS as readonly string[]).includes(key)),
    );
    // reportInput: zod 4 leaves the found value out of an issue unless asked, and a wrong value
    // would then read as a missing one.
    const parsed = StackConfigSchema.safeParse(rest, { reportInput: true });
    if (!parsed.success) return { ok: false, issues: schemaIssues(parsed.error) };
    const environment = resolveEnvironment(raw.stack, parsed.data.environment);
    if (environment && environment !== raw.stack && (ENVIRONMENTS as readonly string[]).includes(raw.stack)) {
        // The other environment's setting pasted in: its guests would be judged by the wrong
        // policy, and every symptom reported but this cause.
        const message = `is "${environment}", but this is the ${raw.stack} stack, whose file holds the ${raw.stack} guests; remove it from Pulumi.${raw.stack}.yaml (the stack name then says "${raw.stack}")`;
        return { ok: false, issues: [{ path: "environment", message }] };
    }
    if (!environment) {
        const message = `stack "${raw.stack}" is not named after an environment; set \`pulumi config set ${NAMESPACE}:environment private\` (or public)`;
        return { ok: false, issues: [{ path: "environment", message }] };
    }
    return { ok: true, config: { ...parsed.data, environment } };
}

/**
 * The serviceSecrets names a stack's config uses (the one walk, secretUses.ts), from its raw values:
 * the offline plan's stand-ins and the secrets generator list these. None when the config does not
 * parse: the run then reports why.
 */
export function usedSecretNames(raw: RawConfig): string[] {
    const parsed = parseSchema(raw);
    return parsed.ok ? secretNames(parsed.config) : [];
}

/** Where a stack's config names each secret (config path and name), with the parsed config; or why it does not parse. */
export function stackSecretUses(
    raw: RawConfig,
):
    | { ok: true; config: ParsedConfig & { environment: EnvironmentName }; uses: SecretUse[] }
    | { ok: false; issues: ConfigIssue[] } {
    const parsed = parseSchema(raw);
    return parsed.ok ? { ok: true, config: parsed.config, uses: secretUses(parsed.config) } : parsed;
}

/**
 * Parses and checks a stack's raw configuration: schema first, then the cross-field rules, then the
 * peer stacks the monitoring server scrapes, each loaded once from `projectDir`. It sees the secrets'
 * plaintext only to check their shape and never returns it.
 */
export function parseStackConfig(
    raw: RawConfig,
    policies: EnvironmentPolicies,
    projectDir: string = PROJECT_ROOT,
): ParseResult {
    // A misspelt `config:` leaves the stack without its settings: every other finding is a symptom.
    const fileKeys = checkStackFileKeys(raw.stack, projectDir);
    if (fileKeys.length > 0) return { ok: false, issues: fileKeys };
    const issues: ConfigIssue[] = [];
    const secretNames = checkServiceSecrets(raw.values["serviceSecrets"], raw.secretKeys.has("serviceSecrets"), issues);
    issues.push(...checkKeySecrets(raw.values, raw.secretKeys));
    // A secret in Pulumi.yaml: the finding says to take it out of that file, not to encrypt it in place.
    const inProjectFile = checkProjectFileSecrets(projectDir);
    const moved = new Set(inProjectFile.map((i) => i.path));
    issues.splice(0, issues.length, ...issues.filter((i) => !moved.has(i.path)), ...inProjectFile);
    const parsed = parseSchema(raw);
    if (!parsed.ok) return { ok: false, issues: [...issues, ...parsed.issues] };
    const { config } = parsed;
    issues.push(...checkConfig(config, config.environment, policies, secretNames));
    const peers = loadPeers(config, projectDir, issues);
    if (issues.length > 0) return { ok: false, issues };
    return { ok: true, config, peers };
}

/** The monitoring server's peer stacks, each through the same loader and schema as this stack's file. */
function loadPeers(cfg: ParsedConfig, projectDir: string, issues: ConfigIssue[]): PeerStack[] {
    const mon = cfg.monitoring;
    if (!mon || !cfg.containers[mon.container]) return [];
    const peers: PeerStack[] = [];
    mon.peerStacks.forEach((stack, i) => {
        const at = `monitoring.peerStacks[${i}]`;
        const file = `Pulumi.${stack}.yaml`;
        if (!fs.existsSync(path.join(projectDir, file))) {
            issues.push({ path: at, message: `${file} does not exist; name a stack of this project` });
            return;
        }
        const raw = readStackFile(stack, projectDir);
        const parsed = raw.ok ? parseSchema(raw.raw) : raw;
        if (parsed.ok) peers.push({ stack, environment: parsed.config.environment, config: parsed.config });
        else {
            const first = parsed.issues[0];
            const why = first ? `${first.path}: ${first.message}` : "it does not parse";
            issues.push({ path: at, message: `${file} holds a config its own stack would refuse (${why})` });
        }
    });
    return peers;
}

const ProjectFileSchema = z.looseObject({
    config: z.record(z.string(), z.unknown()).optional(),
});

/** A project key's declaration in Pulumi.yaml, as far as the merge needs it. */
const DeclarationSchema = z.looseObject({ value: z.unknown().optional(), default: z.unknown().optional() });

function readYamlFile(file: string): Record<string, unknown> {
    const doc = ProjectFileSchema.parse(parse(fs.readFileSync(file, "utf8")) ?? {});
    return doc.config ?? {};
}

/**
 * A stack's keys as the engine would hand them to its run, read from Pulumi.yaml and
 * Pulumi.<stack>.yaml: the stack's values over the project's `value` or `default`. Encrypted values
 * cannot be read here: their keys are marked secret and left out.
 */
export function readStackFile(
    stack: string,
    projectDir: string = PROJECT_ROOT,
): { ok: true; raw: RawConfig } | { ok: false; issues: ConfigIssue[] } {
    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    try {
        for (const [key, decl] of Object.entries(readYamlFile(path.join(projectDir, "Pulumi.yaml")))) {
            const d = DeclarationSchema.safeParse(decl);
            const fallback = d.success ? (d.data.value ?? d.data.default) : undefined;
            if (fallback !== undefined) values[key] = fallback;
        }
        const prefix = `${NAMESPACE}:`;
        for (const [full, value] of Object.entries(readYamlFile(path.join(projectDir, `Pulumi.${stack}.yaml`)))) {
            if (!full.startsWith(prefix)) continue;
            const key = full.slice(prefix.length);
            if (value !== null && typeof value === "object" && "secure" in value) {
                secretKeys.add(key);
                delete values[key];
            } else values[key] = value;
        }
    } catch (e) {
        const message = `cannot be read: ${(e as Error).message.split("\n")[0]}`;
        return { ok: false, issues: [{ path: `Pulumi.${stack}.yaml`, message }] };
    }
    // Through the engine's encoding (objects as JSON text), so the schema sees what a run would.
    const decoded = Object.entries(values).map(([k, v]): [string, unknown] => [
        k,
        decodeValue(k, typeof v === "string" ? v : JSON.stringify(v)),
    ]);
    return { ok: true, raw: { stack, values: Object.fromEntries(decoded), secretKeys } };
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
export function loadStackConfig(
    policies: EnvironmentPolicies,
    raw: RawConfig = readRawConfig(),
    projectDir: string = PROJECT_ROOT,
): LoadedStack {
    const result = parseStackConfig(raw, policies, projectDir);
    if (!result.ok) throw new ConfigError(raw.stack, result.issues);
    return {
        ...resolveStack(result.config, raw.stack, policies[result.config.environment], result.peers),
        secrets: stackSecrets(result.config, raw.values),
        placeholders: findPlaceholders(result.config),
    };
}
