// Renders the config reference (docs/config-reference.md) from the schema itself, so the docs
// cannot drift from what the program accepts. `npm run docs:config` rewrites the generated section,
// between the BEGIN and END markers; the heading and paragraph above them are kept as written.
// The file is in .prettierignore, so the tables are committed exactly as rendered, unpadded.

import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { CONFIG_KEYS, StackConfigSchema } from "../config/schema";

interface JsonSchema {
    type?: string;
    description?: string;
    default?: unknown;
    enum?: unknown[];
    const?: unknown;
    format?: string;
    pattern?: string;
    properties?: Record<string, JsonSchema>;
    required?: string[];
    additionalProperties?: JsonSchema | boolean;
    items?: JsonSchema;
    anyOf?: JsonSchema[];
}

export const BEGIN = "<!-- config-reference:begin (generated from config/schema by `npm run docs:config`) -->";
export const END = "<!-- config-reference:end -->";
/** The file that holds the generated reference. */
export const REFERENCE_FILE = path.join(__dirname, "..", "docs", "config-reference.md");
const REFERENCE_NAME = "docs/config-reference.md";

const SECRETS: Record<string, string> = {
    proxmoxApiToken: "Proxmox API token `user@realm!tokenid=uuid`. Set with `pulumi config set --secret`.",
    sshPrivateKey:
        "OpenSSH private key for nodes.<node>.sshUser (root on the nodes): host bootstrap and check, the VMs' tune steps, snippet uploads. Set with `pulumi config set --secret ... < keyfile`.",
    guestSshPrivateKey:
        "Optional OpenSSH private key for the guests' admin (the VMs' cloudInit.user, the containers' root): first-boot checks and data setups. Without it, sshPrivateKey. Set with `pulumi config set --secret ... < keyfile`.",
    serviceSecrets:
        "Object of secrets the services name as `{{name}}` in secretEnvironment (qdrantApiKey, webuiSecretKey, ...); required once a service names one. Set each with `pulumi config set --secret --path 'ai-dualstack:serviceSecrets.<name>' <value>`.",
};

const RECORD_KEY: Record<string, string> = {
    nodes: "<node>",
    gpus: "<gpu>",
    mirrors: "<storage>",
    bridges: "<bridge>",
    vms: "<vm>",
    containers: "<container>",
};

function typeOf(s: JsonSchema): string {
    if (s.anyOf) return s.anyOf.map(typeOf).join(" \\| ");
    if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
    if (s.enum) return s.enum.map((e) => `\`${JSON.stringify(e)}\``).join(" \\| ");
    if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "values"}`;
    if (s.type === "object") return s.properties ? "object" : "map";
    if (s.format === "cidrv4") return "IPv4 CIDR";
    if (s.format === "ipv4") return "IPv4 address";
    if (s.format === "uri") return "URL";
    return s.type ?? "value";
}

/** Escapes a table cell; outside code spans, <placeholders> would otherwise vanish as HTML. */
function cell(text: string): string {
    return text
        .split("`")
        .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;")))
        .join("`")
        .replace(/\|/g, "\\|")
        .replace(/\n/g, " ");
}

function rows(s: JsonSchema, at: string, required: boolean, out: string[]): void {
    const isRecord = s.type === "object" && !s.properties && typeof s.additionalProperties === "object";
    const dflt = s.default === undefined ? (required ? "required" : "") : `\`${JSON.stringify(s.default)}\``;
    out.push(`| \`${at}\` | ${typeOf(s)} | ${dflt} | ${cell(s.description ?? "")} |`);
    if (s.properties) {
        for (const [key, child] of Object.entries(s.properties)) {
            rows(child, `${at}.${key}`, s.required?.includes(key) ?? false, out);
        }
    } else if (isRecord) {
        const leaf = at.split(".").pop() ?? at;
        const child = s.additionalProperties as JsonSchema;
        const key = RECORD_KEY[leaf] ?? "<name>";
        for (const [k, grandchild] of Object.entries(child.properties ?? {})) {
            rows(grandchild, `${at}.${key}.${k}`, child.required?.includes(k) ?? false, out);
        }
    } else if (s.type === "array" && s.items?.properties) {
        for (const [k, grandchild] of Object.entries(s.items.properties)) {
            rows(grandchild, `${at}[].${k}`, s.items.required?.includes(k) ?? false, out);
        }
    }
}

/** The reference as Markdown: one table per top-level key, in the order a user meets them. */
export function renderConfigReference(): string {
    const root = z.toJSONSchema(StackConfigSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
    const out: string[] = [];
    const where = {
        project: "Pulumi.yaml, shared by both stacks",
        stack: "Pulumi.<stack>.yaml",
        secret: "Pulumi.<stack>.yaml, encrypted",
    };
    for (const [key, kind] of Object.entries(CONFIG_KEYS)) {
        out.push(
            `## \`ai-dualstack:${key}\` (${cell(where[kind])})`,
            "",
            "| key | type | default | meaning |",
            "| --- | --- | --- | --- |",
        );
        if (kind === "secret") {
            const type = key === "serviceSecrets" ? "secret object" : "secret string";
            const required = key === "guestSshPrivateKey" ? "" : "required";
            out.push(`| \`${key}\` | ${type} | ${required} | ${SECRETS[key] ?? ""} |`);
        } else {
            const schema = root.properties?.[key];
            if (!schema) throw new Error(`config/schema has no key ${key}`);
            rows(schema, key, root.required?.includes(key) ?? false, out);
        }
        out.push("");
    }
    return out.join("\n").trimEnd();
}

/** Table text without the padding prettier would add, for comparing the docs file with a fresh render. */
export function normalize(markdown: string): string {
    return markdown
        .split("\n")
        .map((line) => line.replace(/\s+/g, " ").replace(/-{3,}/g, "---").trim())
        .join("\n")
        .trim();
}

/** The generated text between the markers of a document, or undefined when it has no markers. */
export function generatedSection(doc: string): string | undefined {
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    if (start < 0 || end < start) return undefined;
    return doc.slice(start + BEGIN.length, end).trim();
}

/** The document with a fresh render between its markers; everything outside them is kept. */
export function withFreshReference(doc: string): string {
    if (generatedSection(doc) === undefined) throw new Error(`no ${BEGIN} ... ${END} markers`);
    const start = doc.indexOf(BEGIN) + BEGIN.length;
    const end = doc.indexOf(END);
    return `${doc.slice(0, start)}\n\n${renderConfigReference()}\n\n${doc.slice(end)}`;
}

/** Rewrites the file's generated section; says whether that changed it (an unchanged file is not written). */
export function refreshReference(file: string): "updated" | "unchanged" {
    const doc = fs.readFileSync(file, "utf8");
    const fresh = withFreshReference(doc);
    if (fresh === doc) return "unchanged";
    fs.writeFileSync(file, fresh);
    return "updated";
}

if (require.main === module) {
    if (process.argv.includes("--help") || process.argv.includes("-h")) {
        console.log(
            `Usage: npm run docs:config\n\nRewrites ${REFERENCE_NAME}'s generated config reference (between its markers) from config/schema.`,
        );
        process.exit(0);
    }
    const doc = fs.readFileSync(REFERENCE_FILE, "utf8");
    if (generatedSection(doc) === undefined) {
        console.error(`${REFERENCE_NAME} has no ${BEGIN} ... ${END} markers`);
        process.exit(1);
    }
    console.log(`${REFERENCE_NAME}: config reference ${refreshReference(REFERENCE_FILE)}`);
}
