// Third-party apt repositories and the fingerprints of the keys that sign them, pinned: a key fetched
// over HTTPS is trusted only when its fingerprint is the pinned one (issue 19, item 9). A rotation
// is for a person to check against the vendor's announcement, then to change here.

import { shellQuote } from "./scripts";

export interface AptKey {
    /** Where the vendor publishes the key. */
    readonly url: string;
    /** The primary key's fingerprint, as `gpg --show-keys --with-colons` prints it (fpr, field 10). */
    readonly fingerprint: string;
    /**
     * Other primary keys the vendor's file may hold beside it, each pinned too: a keyring that carries
     * the previous release's key. Any key not listed here is refused.
     */
    readonly companions?: readonly string[];
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

/** The Debian suites Proxmox's own repositories (PBS among them) are built for here. */
export const PROXMOX_SUITES = ["bookworm", "trixie"] as const;
export type ProxmoxSuite = (typeof PROXMOX_SUITES)[number];

/** Proxmox's release key for Debian 12 "bookworm" (Proxmox VE 8, Proxmox Backup Server 3). */
const PROXMOX_BOOKWORM_FINGERPRINT = "F4E136C67CDCE41AE6DE6FC81140AF8F639E0C39";

/**
 * Proxmox's release keys, by the suite whose repositories they sign. The fingerprints are those of
 * "Proxmox Bookworm Release Key" and "Proxmox Trixie Release Key", as `gpg --show-keys` reads the
 * copies Proxmox ships in pve-manager (aplinfo/proxmox-release-bookworm.gpg, -trixie.gpg; the
 * bookworm one is byte for byte the file at the URL below, whose SHA-512 the Proxmox Backup Server
 * docs, package-repositories.rst "SecureApt", publish). The URLs are the ones Proxmox documents:
 * proxmox-backup docs/package-repositories.rst for bookworm, pve-docs pve-package-repos.adoc
 * "SecureApt" for trixie, a keyring that may also carry the bookworm key for upgrades.
 */
export const PROXMOX_RELEASE_KEYS: Readonly<Record<ProxmoxSuite, AptKey>> = {
    bookworm: {
        url: "https://enterprise.proxmox.com/debian/proxmox-release-bookworm.gpg",
        fingerprint: PROXMOX_BOOKWORM_FINGERPRINT,
    },
    trixie: {
        url: "https://enterprise.proxmox.com/debian/proxmox-archive-keyring-trixie.gpg",
        fingerprint: "24B30F06ECC1836A4E5EFECBA7BCD1420BFE778E",
        companions: [PROXMOX_BOOKWORM_FINGERPRINT],
    },
};

/**
 * A POSIX sh command that fetches `key`, refuses it (a message naming both fingerprints, exit 1,
 * nothing written) unless it holds exactly one primary key with the pinned fingerprint (besides, at
 * most, its pinned companions), and then
 * writes the keyring and the repository's sources line. `root` prefixes the written paths (a shell
 * expression, for the sandbox tests); the sources line names the keyring without it.
 */
export function pinnedKeyCommand(
    key: AptKey,
    repo: { keyring: string; list: string; line: string },
    root = "",
): string {
    const primary = `awk -F: '$1 == "pub" { p = 1; next } p && $1 == "fpr" { print $10; p = 0 }'`;
    const companions = key.companions ?? [];
    const pinned =
        companions.length === 0 ? key.fingerprint : `${key.fingerprint} (beside, at most, ${companions.join(", ")})`;
    // With companions: the pinned key exactly once, every other primary key a companion.
    const test =
        companions.length === 0
            ? `[ "$f" = ${shellQuote(key.fingerprint)} ]`
            : `n=0; for x in $f; do case "$x" in ${key.fingerprint}) n=$((n + 1)) ;; ${companions.join("|")}) ;; *) n=2 ;; esac; done; f=$(echo $f); [ "$n" = 1 ]`;
    const refuse = `echo "ai-dualstack: the apt key at ${key.url} has fingerprint \${f:-(none)}, not the pinned ${pinned}: check the vendor's announcement, then update lib/aptKeys.ts" >&2`;
    return [
        `k=$(mktemp);`,
        `curl -fsSL ${shellQuote(key.url)} -o "$k" || { echo "ai-dualstack: could not fetch the apt key at ${key.url}" >&2; rm -f "$k"; exit 1; };`,
        `f=$(gpg --show-keys --with-colons "$k" 2>/dev/null | ${primary});`,
        `if ${test}; then`,
        `{ gpg --dearmor --yes -o "${root}${repo.keyring}" "$k" && echo ${shellQuote(repo.line)} >"${root}${repo.list}"; } || { rm -f "$k"; exit 1; };`,
        `else ${refuse}; rm -f "$k"; exit 1; fi; rm -f "$k"`,
    ].join(" ");
}
