// Third-party apt repositories and the fingerprints of the keys that sign them, pinned: a key fetched
// over HTTPS is trusted only when its fingerprint is the pinned one (issue 19, item 9). A rotation
// is for a person to check against the vendor's announcement, then to change here.

import { shellQuote } from "./scripts";

export interface AptKey {
    /** Where the vendor publishes the key. */
    readonly url: string;
    /** The primary key's fingerprint, as `gpg --show-keys --with-colons` prints it (fpr, field 10). */
    readonly fingerprint: string;
}

/** Grafana Labs' apt key since its 2023 rotation (https://apt.grafana.com, "B53AE77B…"). */
export const GRAFANA_APT_KEY: AptKey = {
    url: "https://apt.grafana.com/gpg.key",
    fingerprint: "B53AE77BADB630A683046005963FA27710458545",
};

/** NVIDIA's key for the container toolkit repository (libnvidia-container). */
export const NVIDIA_TOOLKIT_KEY: AptKey = {
    url: "https://nvidia.github.io/libnvidia-container/gpgkey",
    fingerprint: "C95B321B61E88C1809C4F759DDCAE044F796ECB0",
};

/**
 * A POSIX sh command that fetches `key`, refuses it (a message naming both fingerprints, exit 1,
 * nothing written) unless it holds exactly one primary key with the pinned fingerprint, and then
 * writes the keyring and the repository's sources line. `root` prefixes the written paths (a shell
 * expression, for the sandbox tests); the sources line names the keyring without it.
 */
export function pinnedKeyCommand(
    key: AptKey,
    repo: { keyring: string; list: string; line: string },
    root = "",
): string {
    const primary = `awk -F: '$1 == "pub" { p = 1; next } p && $1 == "fpr" { print $10; p = 0 }'`;
    const refuse = `echo "ai-dualstack: the apt key at ${key.url} has fingerprint \${f:-(none)}, not the pinned ${key.fingerprint}: check the vendor's announcement, then update lib/aptKeys.ts" >&2`;
    return [
        `k=$(mktemp);`,
        `curl -fsSL ${shellQuote(key.url)} -o "$k" || { echo "ai-dualstack: could not fetch the apt key at ${key.url}" >&2; rm -f "$k"; exit 1; };`,
        `f=$(gpg --show-keys --with-colons "$k" 2>/dev/null | ${primary});`,
        `if [ "$f" = ${shellQuote(key.fingerprint)} ]; then`,
        `{ gpg --dearmor --yes -o "${root}${repo.keyring}" "$k" && echo ${shellQuote(repo.line)} >"${root}${repo.list}"; } || { rm -f "$k"; exit 1; };`,
        `else ${refuse}; rm -f "$k"; exit 1; fi; rm -f "$k"`,
    ].join(" ");
}
