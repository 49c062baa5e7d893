// WireGuard: the public key the program derives matches `wg pubkey`; the server config and each
// peer's client config (with its owner's key added) pass Debian's `wg-quick strip` and load into a
// real WireGuard interface (wireguard-go, in a throwaway user and network namespace) through `wg
// setconf`, which reads back the keys, port and allowed IPs the config says.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { clientConfigs, renderWireguardScript, vpnDestinations } from "../../../components/serviceLxc/security";
import { LxcConfig } from "../../../config/schema";
import { isWgKey, wgPublicKey } from "../../../lib/wireguard";
import { parsedConfig } from "../../helpers/config";
import { shellcheckScripts, validator } from "../../helpers/sandbox";

const cfg = parsedConfig("private");
const wg = (cfg.containers["private-security"] as LxcConfig).wireguard as NonNullable<LxcConfig["wireguard"]>;
const dests = vpnDestinations(wg, cfg.environments.private.network, cfg.proxmox.managementSources, "192.168.1.10");
const wgBin = validator("wg");
const wgQuick = validator("wg-quick");
const wgGo = validator("wireguard-go");
const shellcheck = validator("shellcheck");

const genkey = () => execFileSync(wgBin as string, ["genkey"], { encoding: "utf8" }).trim();
const pubkey = (key: string) => execFileSync(wgBin as string, ["pubkey"], { input: key, encoding: "utf8" }).trim();

/** A config file named as wg-quick wants it (<interface>.conf), owner-only. */
function confFile(name: string, text: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-wg-"));
    const file = path.join(dir, `${name}.conf`);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
}

/** `wg-quick strip`, as root of a user namespace: wg-quick insists on uid 0 even to strip. */
function strip(file: string): string {
    return execFileSync("unshare", ["-r", wgQuick as string, "strip", file], { encoding: "utf8" });
}

/** The server's wg0.conf as the setup script writes it (AIDS_WG_CONF in the rendered script). */
function serverConf(privateKey: string): string {
    const script = renderWireguardScript(wg, dests, cfg.environments.private.network.cidr, privateKey);
    return execFileSync("bash", ["-c", `${script.split("\nset -euo")[0]}\nprintf '%s' "$AIDS_WG_CONF"`], {
        encoding: "utf8",
    });
}

/** Loads a stripped config into a wireguard-go interface in a fresh namespace; returns `wg showconf` and its public key. */
function loadIntoWireguard(stripped: string): { showconf: string; publicKey: string } {
    const file = confFile("stripped", stripped);
    const script = `set -euo pipefail
mount -t tmpfs tmpfs /run
WG_PROCESS_FOREGROUND=1 "${wgGo}" aidswg0 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -S /run/wireguard/aidswg0.sock ]] && break; sleep 0.05; done
"${wgBin}" setconf aidswg0 "${file}"
"${wgBin}" showconf aidswg0
echo "public-key $("${wgBin}" show aidswg0 public-key)"`;
    const out = execFileSync("unshare", ["-rnm", "bash", "-c", script], { encoding: "utf8" });
    const publicKey = /^public-key (\S+)$/m.exec(out)?.[1] ?? "";
    return { showconf: out, publicKey };
}

(wgBin ? test : test.skip)("the derived public key is the one `wg pubkey` prints", () => {
    for (let i = 0; i < 3; i++) {
        const key = genkey();
        expect(isWgKey(key)).toBe(true);
        expect(wgPublicKey(key)).toBe(pubkey(key));
    }
    expect(() => wgPublicKey("not a key")).toThrow("not a WireGuard private key");
});

test("VPN clients reach the environment's network and, since the VPN administers it, the node", () => {
    expect(dests).toEqual(["10.10.10.0/24", "192.168.1.10/32"]);
    expect(vpnDestinations(wg, cfg.environments.private.network, [], "192.168.1.10")).toEqual(["10.10.10.0/24"]);
});

(wgBin && wgQuick && wgGo ? describe : describe.skip)("with wireguard-tools and wireguard-go", () => {
    let serverKey = "";
    let server = "";
    let clients: Record<string, string> = {};
    beforeAll(() => {
        serverKey = genkey();
        server = serverConf(serverKey);
        clients = clientConfigs(wg, dests, wgPublicKey(serverKey));
    });

    test("the server config strips and loads: its key, port and each peer's /32", () => {
        const stripped = strip(confFile("wg0", server));
        expect(stripped).not.toContain("Address");
        const { showconf, publicKey } = loadIntoWireguard(stripped);
        expect(publicKey).toBe(pubkey(serverKey));
        expect(showconf).toContain("ListenPort = 51820");
        for (const [name, peer] of Object.entries(wg.peers)) {
            const block = showconf.split("[Peer]").find((b) => b.includes(peer.publicKey));
            expect(`${name}: ${block ?? "no [Peer] with its key"}`).toContain(`AllowedIPs = ${peer.address}/32`);
        }
    });

    test("each client config has no private key, and with its owner's key it strips and loads", () => {
        expect(Object.keys(clients).sort()).toEqual(Object.keys(wg.peers).sort());
        for (const [name, text] of Object.entries(clients)) {
            expect(text).not.toMatch(/^PrivateKey/m);
            expect(text).toContain(`Address = ${wg.peers[name]?.address}/32`);
            expect(text).toContain("Endpoint = vpn.example.com:51820");
            const own = genkey();
            // `wg setconf` resolves the endpoint; the test's namespace has no DNS, so a documentation address stands in.
            const completed = text
                .replace("[Interface]\n", `[Interface]\nPrivateKey = ${own}\n`)
                .replace("vpn.example.com:", "192.0.2.1:");
            const stripped = strip(confFile("wg0", completed));
            const { showconf, publicKey } = loadIntoWireguard(stripped);
            expect(publicKey).toBe(pubkey(own));
            expect(showconf).toContain(`PublicKey = ${pubkey(serverKey)}`);
            expect(showconf).toContain("AllowedIPs = 10.10.10.0/24, 192.168.1.10/32");
            expect(showconf).toContain("Endpoint = 192.0.2.1:51820");
            expect(showconf).toContain("PersistentKeepalive = 25");
        }
    });
});

(shellcheck ? test : test.skip)("shellcheck finds nothing in the rendered WireGuard setup", () => {
    expect(() =>
        shellcheckScripts(shellcheck as string, {
            "wg.sh": renderWireguardScript(wg, dests, cfg.environments.private.network.cidr, genkeyOrFixed()),
        }),
    ).not.toThrow();
});

function genkeyOrFixed(): string {
    return wgBin ? genkey() : "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
}
