// Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the engine merges them, so the offline plan
// and the tests feed the program exactly the config `pulumi up` would.

import * as fs from "fs";
import * as path from "path";
import { Document, LineCounter, isMap, isScalar, parseDocument } from "yaml";
import { NAMESPACE, decodeValue, readStackFile, usedSecretNames } from "../config/load";
import { PROJECT_ROOT } from "../lib/paths";
import { encryptInPlace } from "../config/secrets";

export const PROJECT_DIR = PROJECT_ROOT;

/** A WireGuard private key for offline plans only (32 zero bytes but one: valid, and nobody's). */
export const OFFLINE_WG_KEY = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/** Valid-looking stand-ins for the key secrets, which an offline plan never sends anywhere. */
export const PLACEHOLDER_SECRETS: Readonly<Record<string, string>> = {
    [`${NAMESPACE}:proxmoxApiToken`]: "plan@pve!offline=00000000-0000-0000-0000-000000000000",
    [`${NAMESPACE}:sshPrivateKey`]:
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb2ZmbGluZS1wbGFuLXBsYWNlaG9sZGVy\n-----END OPENSSH PRIVATE KEY-----\n",
    [`${NAMESPACE}:guestSshPrivateKey`]:
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb2ZmbGluZS1ndWVzdC1wbGFjZWhvbGRlcg==\n-----END OPENSSH PRIVATE KEY-----\n",
};

/**
 * serviceSecrets leaves with a shape of their own, by name: the server's public key is derived from the
 * WireGuard key; the alert webhook's URL must be one for amtool to accept the monitoring set-up's
 * Alertmanager config (the booted-system suite runs that set-up as the plan carries it). `.invalid`
 * never resolves (RFC 2606).
 */
const LEAF_PLACEHOLDERS: Readonly<Record<string, string>> = {
    wireguardPrivateKey: OFFLINE_WG_KEY,
    alertWebhookUrl: "https://alerts.invalid/offline-placeholder-alertWebhookUrl",
};

/** The stand-in for one serviceSecrets value. */
function leafPlaceholder(name: string): string {
    return LEAF_PLACEHOLDERS[name] ?? `offline-placeholder-${name}`;
}

const SERVICE_SECRETS = `${NAMESPACE}:serviceSecrets`;

/**
 * The serviceSecrets stand-ins for a stack: one per name its config uses (the one walk,
 * config/secretUses.ts), its files read by the program's own reader (config/load.ts) with the
 * overrides on top, as the plan will see them.
 */
export function serviceSecretPlaceholders(stack: string, opts: StackFileOptions = {}): Record<string, string> {
    const file = readStackFile(stack, opts.projectDir ?? PROJECT_DIR);
    if (!file.ok) return {};
    const values = { ...file.raw.values };
    for (const [key, value] of Object.entries(opts.overrides ?? {})) {
        const full = qualify(key);
        if (!full.startsWith(`${NAMESPACE}:`)) continue;
        const bare = full.slice(NAMESPACE.length + 1);
        values[bare] = decodeValue(bare, encode(value));
    }
    return Object.fromEntries(usedSecretNames({ ...file.raw, values }).map((n) => [n, leafPlaceholder(n)]));
}

/** Where the stack files are, and what a test or the bench puts in place of their values. */
export interface StackFileOptions {
    projectDir?: string;
    /** Bare or qualified keys whose values replace the stack file's (tests and the bench). */
    overrides?: Record<string, unknown>;
    /** Like overrides, but held as secrets, as `pulumi config set --secret` would. */
    secretOverrides?: Record<string, string>;
    placeholders?: boolean;
}

export interface StackConfigFiles {
    stack: string;
    /** Fully qualified keys → the string the engine hands the program (objects as JSON). */
    config: Record<string, string>;
    secretKeys: string[];
    /** What a reader should know about the values (placeholders, project defaults). */
    notes: string[];
}

interface ProjectConfigDecl {
    type?: string;
    description?: string;
    default?: unknown;
    value?: unknown;
    secret?: boolean;
}

function qualify(key: string): string {
    return key.includes(":") ? key : `${NAMESPACE}:${key}`;
}

function encode(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** A stack or project file the plan cannot use, at the line and column where it goes wrong. */
export class StackFileError extends Error {
    constructor(
        readonly file: string,
        readonly line: number,
        readonly col: number,
        readonly detail: string,
    ) {
        super(`${file}:${line}:${col}: ${detail}`);
        this.name = "StackFileError";
    }
}

/** What a YAML error means for a config file, in one line. */
function yamlDetail(code: string, message: string): string {
    const head = message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? message;
    if (code === "DUPLICATE_KEY") {
        return "this key is set twice in one mapping (YAML would keep only one); remove one of them";
    }
    return `${head} (YAML ${code})`;
}

interface YamlFile {
    doc: Document;
    lines: LineCounter;
    /** As a reader names it: relative to the project. */
    name: string;
}

function readYaml(file: string): YamlFile & { value: Record<string, unknown> } {
    const name = path.basename(file);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        const why = (err as NodeJS.ErrnoException).code ?? String(err);
        throw new StackFileError(name, 1, 1, `cannot read it (${why}); check that it is a file you may read`);
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
    const first = doc.errors[0];
    if (first) {
        const at = first.linePos?.[0] ?? { line: 1, col: 1 };
        throw new StackFileError(name, at.line, at.col, yamlDetail(first.code, first.message));
    }
    return { doc, lines, name, value: (doc.toJS() ?? {}) as Record<string, unknown> };
}

/** The commands that encrypt a plain value in place: per leaf for an object, as `--path` sets them. */
function encryptCommands(key: string, encoded: string | undefined): string {
    let value: unknown;
    try {
        value = JSON.parse(encoded ?? "");
    } catch {
        value = undefined;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) return `\`${encryptInPlace(key)}\``;
    return Object.keys(value)
        .sort()
        .map((leaf) => `\`${encryptInPlace(`${key}.${leaf}`, true)}\``)
        .join("; ");
}

/** Where a top-level `config:` key sits in a file, for messages. */
function keyPosition(file: YamlFile, key: string): { line: number; col: number } {
    const config = file.doc.get("config", true);
    if (isMap(config)) {
        for (const item of config.items) {
            if (isScalar(item.key) && item.key.value === key && item.key.range) {
                return file.lines.linePos(item.key.range[0]);
            }
        }
    }
    return { line: 1, col: 1 };
}

export function stackFilePath(stack: string, projectDir = PROJECT_DIR): string {
    return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

/**
 * The config the engine would pass for `stack`: stack values first, then the project's `value`
 * or `default` for keys the stack leaves out. Encrypted values cannot be read offline, so they
 * and missing secrets become placeholders (noted), which is all a plan needs.
 */
export function readStackConfig(stack: string, opts: StackFileOptions = {}): StackConfigFiles {
    const projectDir = opts.projectDir ?? PROJECT_DIR;
    const stackFile = stackFilePath(stack, projectDir);
    if (!fs.existsSync(stackFile)) {
        throw new StackFileError(
            path.basename(stackFile),
            1,
            1,
            `no such stack file in ${projectDir}; the stacks are "private" and "public" (a new one starts with \`pulumi stack init <name>\`)`,
        );
    }
    const project = readYaml(path.join(projectDir, "Pulumi.yaml")).value;
    const declared = (project["config"] ?? {}) as Record<string, ProjectConfigDecl>;
    const stackYaml = readYaml(stackFile);
    const stackValues = (stackYaml.value["config"] ?? {}) as Record<string, unknown>;

    const placeholder = (full: string) =>
        full === SERVICE_SECRETS ? JSON.stringify(serviceSecretPlaceholders(stack, opts)) : PLACEHOLDER_SECRETS[full];
    const into: MergedConfig = { stack, config: {}, secretKeys: new Set(), notes: [], placeholder };
    for (const [key, raw] of Object.entries({ ...stackValues, ...(opts.overrides ?? {}) })) {
        addStackValue(key, raw, stackYaml, into);
    }
    const { config, secretKeys, notes } = into;
    for (const [key, value] of Object.entries(opts.secretOverrides ?? {})) {
        config[qualify(key)] = value;
        secretKeys.add(qualify(key));
    }
    applyProjectConfig(declared, into, opts.placeholders !== false, stackYaml);
    return { stack, config, secretKeys: [...secretKeys].sort(), notes };
}

interface MergedConfig {
    stack: string;
    config: Record<string, string>;
    secretKeys: Set<string>;
    notes: string[];
    /** The stand-in for an encrypted or missing secret key; undefined when there is none. */
    placeholder: (full: string) => string | undefined;
}

/** One key of the stack file: its value, or for an encrypted one (whole or per leaf) a placeholder. */
function addStackValue(key: string, raw: unknown, stackYaml: YamlFile, into: MergedConfig): void {
    const full = qualify(key);
    if (raw !== null && typeof raw === "object" && "secure" in raw) {
        into.secretKeys.add(full);
        const placeholder = into.placeholder(full);
        if (placeholder === undefined) {
            const at = keyPosition(stackYaml, key);
            throw new StackFileError(
                stackYaml.name,
                at.line,
                at.col,
                `${full} is encrypted and the offline plan has no stand-in for it; is the key spelt right? (docs/config-reference.md lists them)`,
            );
        }
        into.config[full] = placeholder;
        into.notes.push(`${full} is encrypted in ${stackYaml.name}; the plan uses a placeholder`);
        return;
    }
    // `pulumi config set --secret --path key.leaf` encrypts leaves one by one: the key is a secret.
    const leaves = withLeafPlaceholders(raw);
    if (leaves.encrypted) {
        into.secretKeys.add(full);
        into.notes.push(`${full} has encrypted values in ${stackYaml.name}; the plan uses placeholders`);
    }
    into.config[full] = encode(leaves.value);
}

/** Keys the stack leaves out take the project's `value` or `default`; a missing secret, a placeholder. */
function applyProjectConfig(
    declared: Record<string, ProjectConfigDecl>,
    into: MergedConfig,
    placeholders: boolean,
    stackYaml: YamlFile,
): void {
    const { config, secretKeys, notes } = into;
    for (const [key, decl] of Object.entries(declared)) {
        const full = qualify(key);
        if (full in config) {
            // The engine refuses a plain value for a key the project declares secret.
            if (decl.secret && !secretKeys.has(full)) {
                const at = keyPosition(stackYaml, full);
                throw new StackFileError(
                    stackYaml.name,
                    at.line,
                    at.col,
                    `${full} is stored in plain text, but the project declares it secret; encrypt it in place: ${encryptCommands(key, config[full])}`,
                );
            }
            continue;
        }
        const fallback = decl.value ?? decl.default;
        if (fallback !== undefined) {
            config[full] = encode(fallback);
        } else if (decl.secret && placeholders) {
            const placeholder = into.placeholder(full);
            if (placeholder !== undefined) {
                config[full] = placeholder;
                secretKeys.add(full);
                notes.push(
                    `${full} is not set; the plan uses a placeholder (set it with \`pulumi config set --secret ${full}\` before \`pulumi up\`)`,
                );
            }
        }
    }
}

/** A value with each `{ secure: ... }` leaf replaced by a placeholder named after its key. */
function withLeafPlaceholders(value: unknown, name = ""): { value: unknown; encrypted: boolean } {
    if (value === null || typeof value !== "object") return { value, encrypted: false };
    if (!Array.isArray(value) && "secure" in value && Object.keys(value).length === 1) {
        // A leaf whose stand-in must have a shape (the WireGuard key) takes it from the placeholders.
        return { value: leafPlaceholder(name), encrypted: true };
    }
    let encrypted = false;
    const walk = (v: unknown, k: string) => {
        const r = withLeafPlaceholders(v, k);
        encrypted ||= r.encrypted;
        return r.value;
    };
    const out = Array.isArray(value)
        ? value.map((v, i) => walk(v, `${name}[${i}]`))
        : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    return { value: out, encrypted };
}
