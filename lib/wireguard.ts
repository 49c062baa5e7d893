// WireGuard, as plain functions: key checks, the public half of a private key (X25519), and the
// server's and each peer's configuration files in wg-quick's format.

import * as crypto from "crypto";

/** A WireGuard key: 32 bytes in standard base64 (44 characters, one "=" of padding). */
export const WG_KEY_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function isWgKey(value: string): boolean {
    return WG_KEY_PATTERN.test(value);
}

// The PKCS#8 prefix of a raw X25519 private key (RFC 8410), so Node's crypto can read WireGuard's raw key.
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

/** The public key of a WireGuard private key, as `wg pubkey` prints it. */
export function wgPublicKey(privateKey: string): string {
    if (!isWgKey(privateKey))
        throw new Error("not a WireGuard private key (32 bytes of base64, as `wg genkey` prints)");
    const der = Buffer.concat([X25519_PKCS8_PREFIX, Buffer.from(privateKey, "base64")]);
    const priv = crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    const spki = crypto.createPublicKey(priv).export({ format: "der", type: "spki" });
    return spki.subarray(spki.length - 32).toString("base64");
}

export interface WgPeer {
    readonly name: string;
    readonly publicKey: string;
    /** The peer's VPN address, without prefix. */
    readonly address: string;
}

export interface WgServer {
    /** The server's VPN address with the VPN network's prefix, e.g. "10.8.0.1/24". */
    readonly address: string;
    readonly listenPort: number;
    readonly peers: readonly WgPeer[];
}

/** The server's wg0.conf. Forwarding and its firewall are the setup script's, not wg-quick's. */
export function renderServerConfig(server: WgServer, privateKey: string): string {
    return [
        "# Rendered by ai-dualstack (lib/wireguard.ts). Do not edit in the container.",
        "[Interface]",
        `Address = ${server.address}`,
        `ListenPort = ${server.listenPort}`,
        `PrivateKey = ${privateKey}`,
        ...server.peers.flatMap((p) => [
            "",
            `# ${p.name}`,
            "[Peer]",
            `PublicKey = ${p.publicKey}`,
            `AllowedIPs = ${p.address}/32`,
        ]),
        "",
    ].join("\n");
}

export interface WgClient {
    readonly peer: WgPeer;
    readonly serverPublicKey: string;
    /** host:port the peer dials. */
    readonly endpoint: string;
    /** The networks the peer routes through the tunnel: what the trusted networks may reach. */
    readonly allowedIps: readonly string[];
    readonly dns: readonly string[];
}

/** A peer's wg0.conf without its PrivateKey line: its owner adds the key that never left their device. */
export function renderClientConfig(c: WgClient): string {
    return [
        `# ${c.peer.name}: add "PrivateKey = <the key whose public half is ${c.peer.publicKey}>" below [Interface].`,
        "[Interface]",
        `Address = ${c.peer.address}/32`,
        ...(c.dns.length > 0 ? [`DNS = ${c.dns.join(", ")}`] : []),
        "",
        "[Peer]",
        `PublicKey = ${c.serverPublicKey}`,
        `Endpoint = ${c.endpoint}`,
        `AllowedIPs = ${c.allowedIps.join(", ")}`,
        "PersistentKeepalive = 25",
        "",
    ].join("\n");
}
