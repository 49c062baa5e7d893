// The stack's secrets: their shapes, checked without ever echoing a value; the exact command that
// stores one encrypted; and the secret Outputs the components take. The SSH keys are one per job,
// each optional one falling back to sshPrivateKey. serviceSecrets become Outputs in resolve/secrets.ts.

import * as pulumi from "@pulumi/pulumi";
import { ConfigIssue } from "./rules";
import { NAMESPACE, ParsedConfig } from "./schema";
import { SecretOutputs, resolveSecrets } from "./resolve/secrets";

export { NAMESPACE } from "./schema";

/** The secret keys of the namespace; the schema never sees them. */
export const SECRET_KEYS = ["proxmoxApiToken", "sshPrivateKey", "guestSshPrivateKey", "serviceSecrets"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

type KeySecret = Exclude<SecretKey, "serviceSecrets">;

const SSH_KEY = /^-----BEGIN (OPENSSH|RSA|EC) PRIVATE KEY-----[\s\S]+-----END \1 PRIVATE KEY-----\s*$/;

export const SECRET_FORMATS: Readonly<
    Record<KeySecret, { pattern: RegExp; shape: string; example: string; required: boolean }>
> = {
    proxmoxApiToken: {
        pattern:
            /^[^@\s]+@[^!\s]+![A-Za-z][A-Za-z0-9._-]*=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        shape: "user@realm!tokenid=<uuid>",
        // Without a value on the line, the CLI asks for it: it stays out of argv and shell history.
        example: `pulumi config set --secret ${NAMESPACE}:proxmoxApiToken`,
        required: true,
    },
    sshPrivateKey: {
        pattern: SSH_KEY,
        shape: "an unencrypted OpenSSH private key",
        example: `pulumi config set --secret ${NAMESPACE}:sshPrivateKey < ~/.ssh/ai-dualstack-host`,
        required: true,
    },
    guestSshPrivateKey: {
        pattern: SSH_KEY,
        shape: "an unencrypted OpenSSH private key",
        example: `pulumi config set --secret ${NAMESPACE}:guestSshPrivateKey < ~/.ssh/ai-dualstack-guest`,
        required: false,
    },
};

export const SERVICE_SECRET_EXAMPLE = `pulumi config set --secret --path '${NAMESPACE}:serviceSecrets.<name>' '<value>'`;

/** The command that stores a plain-text value encrypted in place, through stdin (never argv). */
export function encryptInPlace(key: string, path = false): string {
    const flag = path ? "--path " : "";
    const full = path ? `'${NAMESPACE}:${key}'` : `${NAMESPACE}:${key}`;
    return `pulumi config get ${flag}${full} | pulumi config set --secret ${flag}${full}`;
}

/** proxmoxApiToken and the SSH keys: present when required, of their shape, encrypted. */
export function checkKeySecrets(
    values: Readonly<Record<string, unknown>>,
    encrypted: ReadonlySet<string>,
): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const [key, format] of Object.entries(SECRET_FORMATS)) {
        const value = values[key];
        if (value === undefined) {
            if (format.required) issues.push({ path: key, message: `missing; set it with \`${format.example}\`` });
        } else if (typeof value !== "string" || !format.pattern.test(value)) {
            issues.push({
                path: key,
                message: `is not ${format.shape} (the value is not shown); set it with \`${format.example}\``,
            });
        } else if (!encrypted.has(key)) {
            issues.push({
                path: key,
                message: `is stored in plain text; encrypt it in place: \`${encryptInPlace(key)}\``,
            });
        }
    }
    return issues;
}

/**
 * serviceSecrets: an object of secret names to non-empty strings, held encrypted. Returns the
 * names (never the values) for the services' references; undefined when the shape is wrong.
 */
export function checkServiceSecrets(
    value: unknown,
    encrypted: boolean,
    issues: ConfigIssue[],
): Set<string> | undefined {
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
    if (!encrypted && names.size > 0) {
        const commands = [...names].sort().map((n) => `\`${encryptInPlace(`serviceSecrets.${n}`, true)}\``);
        issues.push({
            path: "serviceSecrets",
            message: `is stored in plain text; encrypt each in place: ${commands.join("; ")}`,
        });
    }
    return names;
}

export interface StackSecrets {
    /** `user@realm!tokenid=uuid`, held by the Proxmox provider only. */
    readonly proxmoxApiToken: pulumi.Output<string>;
    /** Root on the nodes: host bootstrap and check, the VMs' tune steps, the provider's snippet uploads. */
    readonly sshPrivateKey: pulumi.Output<string>;
    /**
     * The guests' admin: the VMs' cloudInit.user (first-boot check) and the service containers'
     * root (data setups). guestSshPrivateKey, or sshPrivateKey when that is not set.
     */
    readonly guestSshPrivateKey: pulumi.Output<string>;
    /** serviceSecrets: one secret Output per name the config uses (resolve/secrets.ts). */
    readonly services: SecretOutputs;
    /**
     * The SSH private key in plain text, for the host check, which logs in before any resource
     * exists (components/host/check.ts). A function, so that it never lands in an output by accident.
     */
    readonly sshPrivateKeyForCheck: () => string;
}

/** serviceSecrets as checked by the parse (checkServiceSecrets): an object, or nothing set. */
function serviceSecretValues(value: unknown): Readonly<Record<string, unknown>> {
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

/** The secrets as Outputs; `values` holds the checked plain values (the host check's key only is read). */
export function stackSecrets(parsed: ParsedConfig, values: Readonly<Record<string, unknown>>): StackSecrets {
    const cfg = new pulumi.Config(NAMESPACE);
    const sshPrivateKey = cfg.requireSecret("sshPrivateKey");
    return {
        proxmoxApiToken: cfg.requireSecret("proxmoxApiToken"),
        sshPrivateKey,
        guestSshPrivateKey:
            values["guestSshPrivateKey"] === undefined ? sshPrivateKey : cfg.requireSecret("guestSshPrivateKey"),
        services: resolveSecrets(parsed, serviceSecretValues(values["serviceSecrets"])),
        sshPrivateKeyForCheck: () => String(values["sshPrivateKey"]),
    };
}
