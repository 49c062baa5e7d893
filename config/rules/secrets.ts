// Every secret the config names is set: one rule over the one walk of the config (secretUses.ts), so
// a missing secret is a config error at the path that names it, before any resource is registered.

import { secretUses } from "../secretUses";
import { NAMESPACE, ParsedConfig } from "../schema";
import { Add } from "./issues";

export const unsetSecret = (name: string) =>
    `serviceSecrets.${name} is not set; set it with \`pulumi config set --secret --path '${NAMESPACE}:serviceSecrets.${name}' <value>\``;

/** `secretNames`: the keys of serviceSecrets; undefined when that key is malformed (reported elsewhere). */
export function checkSecretsSet(cfg: ParsedConfig, secretNames: ReadonlySet<string> | undefined, add: Add): void {
    if (secretNames === undefined) return;
    for (const use of secretUses(cfg)) if (!secretNames.has(use.name)) add(use.path, unsetSecret(use.name));
}
