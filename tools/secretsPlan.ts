// What `npm run secrets` does, as plain functions: the form each secret takes (from where the config
// names it), generating a value of that form, and the plan of what to set, copy, ask for or leave.

import * as crypto from "crypto";
import { SecretUse } from "../config/secretUses";

/**
 * password: 32 letters and digits (safe inside the URLs the services build from it); token: 32
 * random bytes as 64 hex digits (`openssl rand -hex 32`); wireguard: a private key as `wg genkey`
 * prints it; runnerToken: only GitHub issues it; provided: the user's own (a webhook URL, SMTP
 * credentials, the off-site server's password), which nothing here can invent.
 */
export type SecretForm = "password" | "token" | "wireguard" | "runnerToken" | "provided";

/** The form a secret takes, from the config paths that name it. */
export function secretForm(name: string, paths: readonly string[]): SecretForm {
    if (paths.some((p) => /\.runner\.tokenSecret$/.test(p))) return "runnerToken";
    if (paths.some((p) => /^monitoring\.alertReceiver\./.test(p) || /^backup\.server\.offsite\./.test(p))) {
        return "provided";
    }
    if (paths.some((p) => /\.wireguard\.privateKeySecret$/.test(p))) return "wireguard";
    if (paths.some((p) => /passwordSecret$|PasswordSecret$/.test(p)) || /password/i.test(name)) return "password";
    return "token";
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A new value of the form; `random` is injectable so tests can pin it. */
export function generateSecret(
    form: Exclude<SecretForm, "runnerToken" | "provided">,
    random: (n: number) => Buffer = crypto.randomBytes,
): string {
    if (form === "token") return random(32).toString("hex");
    if (form === "wireguard") {
        // Clamped as X25519 keys are (RFC 7748, section 5), as `wg genkey` prints them.
        const key = Buffer.from(random(32));
        key[0] = (key[0] as number) & 248;
        key[31] = ((key[31] as number) & 127) | 64;
        return key.toString("base64");
    }
    // Rejection sampling: bytes at or above 248 (62 * 4) would bias the first characters.
    let out = "";
    while (out.length < 32) {
        for (const b of random(48)) {
            if (b < 248 && out.length < 32) out += ALPHANUMERIC[b % 62];
        }
    }
    return out;
}

/** One secret and what to do with it. */
export interface SecretStep {
    readonly name: string;
    readonly form: SecretForm;
    /**
     * keep: already set; generate: a new value; copy: the peer stack's value (the shared PBS
     * password); ask: the user must supply it (runner token, provided secrets).
     */
    readonly action: "keep" | "generate" | "copy" | "ask";
    /** For copy, and for a shared secret the peer does not hold yet: the peer stack and its name. */
    readonly shared?: { readonly stack: string; readonly name: string };
    /** For a runner token: the GitHub repository ("owner/name") whose page issues it. */
    readonly repository?: string;
}

/** A stack's secrets as the plan needs them. */
export interface StackSecretsView {
    readonly stack: string;
    readonly environment: string;
    readonly uses: readonly SecretUse[];
    /** The serviceSecrets names the stack file holds a value for (never the values). */
    readonly set: ReadonlySet<string>;
    /** Runner token names to their repositories. */
    readonly repositories?: ReadonlyMap<string, string>;
}

/**
 * The secrets one stack shares with another: a PBS datastore's user password, which the stack that
 * runs PBS sets (backup.server.datastores.<env>.passwordSecret) and the environment's stack logs
 * in with (backup.pbs.passwordSecret). Keyed by this stack's name.
 */
export function sharedSecrets(
    self: StackSecretsView,
    peers: readonly StackSecretsView[],
): Map<string, { stack: string; name: string }> {
    const out = new Map<string, { stack: string; name: string }>();
    const clientName = (v: StackSecretsView) => v.uses.find((u) => u.path === "backup.pbs.passwordSecret")?.name;
    for (const use of self.uses) {
        const served = /^backup\.server\.datastores\.([^.]+)\.passwordSecret$/.exec(use.path)?.[1];
        if (served === undefined || served === self.environment) continue;
        const peer = peers.find((p) => p.environment === served);
        const name = peer && clientName(peer);
        if (peer && name) out.set(use.name, { stack: peer.stack, name });
    }
    const mine = clientName(self);
    if (mine) {
        for (const peer of peers) {
            const use = peer.uses.find((u) => u.path === `backup.server.datastores.${self.environment}.passwordSecret`);
            if (use && peer.environment !== self.environment) out.set(mine, { stack: peer.stack, name: use.name });
        }
    }
    return out;
}

/** What to do with each secret the stack uses, sorted by name; `rotate` names secrets to replace. */
export function planSecrets(
    self: StackSecretsView,
    peers: readonly StackSecretsView[],
    rotate: ReadonlySet<string> = new Set(),
): SecretStep[] {
    const paths = new Map<string, string[]>();
    for (const u of self.uses) paths.set(u.name, [...(paths.get(u.name) ?? []), u.path]);
    const shared = sharedSecrets(self, peers);
    return [...paths.keys()].sort().map((name): SecretStep => {
        const form = secretForm(name, paths.get(name) ?? []);
        const share = shared.get(name);
        const extra = {
            ...(share ? { shared: share } : {}),
            ...(self.repositories?.get(name) ? { repository: self.repositories.get(name) } : {}),
        };
        if (self.set.has(name) && !rotate.has(name)) return { name, form, action: "keep", ...extra };
        if (form === "runnerToken" || form === "provided") return { name, form, action: "ask", ...extra };
        // A shared secret the peer holds is copied (a rotation replaces it in both stacks instead).
        const peerHolds = share && !rotate.has(name) && peers.find((p) => p.stack === share.stack)?.set.has(share.name);
        return { name, form, action: peerHolds ? "copy" : "generate", ...extra };
    });
}

/**
 * Where GitHub issues the runner's token: a fine-grained personal access token, limited there to the one
 * repository; the same page whatever the repository.
 */
export function runnerTokenPage(_repository: string): string {
    return "https://github.com/settings/personal-access-tokens/new";
}
