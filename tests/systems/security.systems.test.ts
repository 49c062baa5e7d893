// The security container, booted: the set-ups `up` sends to 10.10.10.22 (CrowdSec, WireGuard, the node
// exporter) run twice on Debian 13 and 12. Then a second booted system, the laptop peer of
// Pulumi.private.yaml, brings up its tunnel with the client config the stack outputs (its own private key
// added, as the config says) through the router's port forward, and pings across it; the forward rules
// let it reach the environment and the node only, even when the client widens its AllowedIPs; what it
// sends to a guest on 10.10.10.0/24 arrives from the container's address (the masquerade, issue 19 item
// 7); and CrowdSec, fed a recorded Traefik access log the way the node's shipper sends it, bans the
// scanner in it and nobody else.
//
// The shipped peer keys are placeholders, so the stack is planned with the laptop's public key replaced
// by one generated here. The lab's kernel has no WireGuard module: the container and the laptop get
// Debian's wireguard-go, which wg-quick falls back to by itself ("Missing WireGuard kernel module.
// Falling back to slow userspace implementation"); Proxmox's kernel has the module, so the container
// never needs it there. /dev/net/tun is in every booted system already (systemd-nspawn makes it).

import * as crypto from "crypto";
import * as path from "path";
import { Lab, LabNetwork, startLab } from "../../testing/booted/lab";
import { setupNamed } from "../../testing/booted/setups";
import { BootedSystem, bootSystem, SUITE_LABEL, SUITES } from "../../testing/booted/system";
import { PlannedStack, planStack } from "../../testing/planStack";
import { LxcConfig } from "../../config/schema";
import { networkCidr } from "../../lib/ipv4";
import { wgPublicKey } from "../../lib/wireguard";
import { parsedConfig, rawConfig } from "../helpers/config";
import {
    addressOf,
    bootContainer,
    containerSetups,
    describeBooted,
    DoubleRun,
    expectNestingFor,
    GUEST_NET,
    LAN,
    NODE,
    runTwice,
} from "./helpers";

const cfg = parsedConfig("private");
const security = cfg.containers["private-security"] as LxcConfig;
const wg = security.wireguard as NonNullable<LxcConfig["wireguard"]>;
const SECURITY = addressOf("private-security");
const ENV_NET = cfg.environments.private.network.cidr;
const VPN_NET = networkCidr(wg.address);
const PEER = "laptop";
/** A guest on the environment's network the VPN reaches: the AI VM (Open WebUI and the rest). */
const AI_VM = (cfg.vms["private-ai"]?.network.address ?? "").split("/")[0] as string;
/** "The internet" of the lab: the laptop on a carrier network, the router's public address its gateway. */
const INTERNET: LabNetwork = { gateway: "100.64.0.1", prefix: 24 };
const LAPTOP_ADDRESS = "100.64.0.2";
const ATTACK_LOG = path.join(__dirname, "..", "fixtures", "security", "traefik-attack.log");
const SCANNER = "203.0.113.66"; // the recorded log's scanner (tests/components/serviceLxc/crowdsec.test.ts)
const VISITOR = "198.51.100.7";

/** The laptop's own key pair: its private half never leaves the laptop (the stack only learns the public one). */
function laptopKey(): { privateKey: string; publicKey: string } {
    const der = crypto.generateKeyPairSync("x25519").privateKey.export({ format: "der", type: "pkcs8" });
    const privateKey = der.subarray(der.length - 32).toString("base64");
    return { privateKey, publicKey: wgPublicKey(privateKey) };
}

/** The private stack planned with the laptop's real public key in place of the shipped placeholder. */
function planWithPeer(publicKey: string): Promise<PlannedStack> {
    const containers = structuredClone(rawConfig("private").values["containers"]) as Record<
        string,
        { wireguard: { peers: Record<string, { publicKey: string }> } }
    >;
    const peer = containers["private-security"]?.wireguard.peers[PEER];
    if (!peer) throw new Error(`Pulumi.private.yaml has no WireGuard peer ${PEER}`);
    peer.publicKey = publicKey;
    return planStack("private", { overrides: { containers } });
}

/**
 * The laptop's wg0.conf: the stack's client config with the owner's private key added below [Interface],
 * as its first line asks; the endpoint is the router's public address in the lab (vpn.example.com does
 * not resolve here), and the DNS line goes (wg-quick would hand it to resolvconf, which this minimal
 * client lacks, and the lab runs no resolver at 10.10.10.1).
 */
function clientConf(plan: PlannedStack, privateKey: string): string {
    const conf = plan.outputs?.containers["private-security"]?.vpnClients?.[PEER];
    if (!conf) throw new Error(`the plan outputs no client config for ${PEER}`);
    const endpoint = `Endpoint = ${wg.endpoint}:${wg.listenPort}`;
    if (!conf.includes(endpoint)) throw new Error(`${PEER}'s config has no '${endpoint}':\n${conf}`);
    return conf
        .replace("[Interface]\n", `[Interface]\nPrivateKey = ${privateKey}\n`)
        .replace(endpoint, `Endpoint = ${INTERNET.gateway}:${wg.listenPort}`)
        .replace(/^DNS = .*\n/m, "");
}

/**
 * The router, as Pulumi.private.yaml describes it: udp/<listenPort> on its public address forwarded to
 * the container, and the VPN's network routed via the container.
 */
function routerForwards(l: Lab): void {
    l.exec(
        "nft",
        ["-f", "-"],
        `table ip aids_router {\n chain pre {\n  type nat hook prerouting priority dstnat;\n  ip daddr ${INTERNET.gateway} udp dport ${wg.listenPort} dnat to ${SECURITY}\n }\n}\n`,
    );
    l.exec("ip", ["route", "add", VPN_NET, "via", SECURITY]);
}

interface Decision {
    value: string;
    type: string;
    duration: string;
    scenario: string;
}

async function decisions(system: BootedSystem): Promise<Decision[]> {
    const alerts = JSON.parse((await system.sh("cscli decisions list -o json")) || "null") as
        { decisions?: Decision[] }[] | null;
    return (alerts ?? []).flatMap((a) => a.decisions ?? []);
}

const key = laptopKey();
let planned: Promise<PlannedStack> | undefined;

describeBooted.each(SUITES)("the security container, booted on %s", (suite) => {
    let l: Lab;
    let sec: BootedSystem;
    let laptop: Promise<BootedSystem>;
    let plan: PlannedStack;
    let run: DoubleRun | undefined;
    const listeners: { kill(): void }[] = [];
    let nodeHost: ReturnType<Lab["addHost"]> | undefined;
    /** A bare host at the node's address on the LAN (one: an address is on the bridge once). */
    const node = () => (nodeHost ??= l.addHost(NODE.address as string, LAN.prefix, LAN.gateway));

    beforeAll(async () => {
        planned ??= planWithPeer(key.publicKey);
        l = startLab([GUEST_NET, LAN, INTERNET]);
        routerForwards(l);
        sec = await bootContainer(l, suite, "private-security");
        // Test only: the userspace WireGuard the lab's kernel needs (see the head of this file).
        await sec.sh("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wireguard-go");
        // The laptop boots and installs its tools while the container's set-ups run.
        laptop = bootSystem(l, {
            suite,
            address: LAPTOP_ADDRESS,
            prefix: INTERNET.prefix,
            gateway: INTERNET.gateway,
            hostname: PEER,
        }).then(async (system) => {
            await system.sh(
                "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && " +
                    "apt-get install -y -qq --no-install-recommends wireguard-tools wireguard-go iputils-ping >/dev/null",
            );
            return system;
        });
        laptop.catch(() => undefined); // awaited in the tests; a failure there names it
        plan = await planned;
    }, 300_000);
    afterAll(async () => {
        for (const listener of listeners) listener.kill();
        await Promise.allSettled([sec?.stop(), laptop?.then((s) => s.stop())]);
        l?.stop();
    }, 60_000);

    test(`${SUITE_LABEL[suite]}: every set-up up sends runs, and a second run changes nothing`, async () => {
        const setups = containerSetups(plan, "private-security");
        expect(setups.map((s) => s.name)).toEqual([
            "private-security-security-crowdsec",
            "private-security-security-wireguard",
            "private-security-node-exporter-setup",
        ]);
        run = await runTwice(sec, setups);
        expect(run.changes).toEqual([]);
        expect(await sec.sh("systemctl is-active crowdsec wg-quick@wg0 nftables prometheus-node-exporter")).toBe(
            "active\nactive\nactive\nactive\n",
        );
    }, 600_000);

    test("the forward rules are loaded: from wg0 to the trusted destinations only, masquerading toward the LAN", async () => {
        expect(run).toBeDefined();
        const ruleset = await sec.sh("nft list ruleset");
        // The rules file flushes the ruleset: the project's table is the only one.
        expect(ruleset.match(/^table .*$/gm)).toEqual(["table inet aids_vpn {"]);
        expect(ruleset).toContain("type filter hook forward priority filter; policy drop;");
        expect(ruleset).toContain(`iifname "wg0" ip daddr { ${ENV_NET}, ${NODE.address as string} } accept`);
        expect(ruleset).toContain(`oifname "eth0" ip saddr ${VPN_NET} ip daddr ${ENV_NET} masquerade`);
        expect(await sec.sh("systemctl is-enabled nftables wg-quick@wg0")).toBe("enabled\nenabled\n");
    });

    test(`the ${PEER}'s tunnel comes up with the stack's client config, and a ping crosses it`, async () => {
        expect(run).toBeDefined();
        const client = await laptop;
        await client.sh("install -m 600 /dev/stdin /etc/wireguard/wg0.conf", clientConf(plan, key.privateKey));
        const up = await client.ssh("wg-quick up wg0");
        expect(up.stderr).toContain("Falling back to slow userspace implementation"); // wireguard-go, as said
        expect(up.code).toBe(0);
        const ping = await client.sh(`ping -c 3 -W 2 ${SECURITY}`);
        expect(ping).toContain("3 packets transmitted, 3 received");
        // Through the tunnel: the container saw a handshake from this peer, and its traffic.
        const handshakes = await sec.sh("wg show wg0 latest-handshakes");
        const seen = new Map(
            handshakes
                .trim()
                .split("\n")
                .map((l) => l.split("\t") as [string, string]),
        );
        expect(Number(seen.get(key.publicKey))).toBeGreaterThan(0);
        expect(await client.sh("ip route get " + SECURITY)).toMatch(/ dev wg0 /);
    }, 120_000);

    test("the VPN reaches the node, and nothing else on the LAN even when the client widens its AllowedIPs", async () => {
        const client = await laptop;
        node();
        const other = "192.168.1.20";
        l.addHost(other, LAN.prefix, LAN.gateway);
        expect(await client.sh(`ping -c 2 -W 2 ${NODE.address as string}`)).toContain("2 received");
        const server = await sec.sh("wg show wg0 public-key");
        await client.sh(`wg set wg0 peer ${server.trim()} allowed-ips ${ENV_NET},192.168.1.0/24`);
        await client.sh(`ip route replace 192.168.1.0/24 dev wg0`);
        const refused = await client.ssh(`ping -c 2 -W 2 ${other}`);
        expect(refused.stdout).toContain("2 packets transmitted, 0 received");
        expect(await client.sh(`ping -c 2 -W 2 ${NODE.address as string}`)).toContain("2 received");
    }, 60_000);

    test(`a guest on ${ENV_NET} sees the VPN's traffic from the container's address`, async () => {
        const client = await laptop;
        const guest = l.addHost(AI_VM, GUEST_NET.prefix, GUEST_NET.gateway);
        // A listener that answers each connection with the address it came from.
        const pid = guest
            .exec("bash", [
                "-c",
                `timeout 60 socat TCP-LISTEN:7000,reuseaddr,fork SYSTEM:'echo $SOCAT_PEERADDR' >/dev/null 2>&1 & echo $!`,
            ])
            .trim();
        listeners.push({ kill: () => void guest.exec("bash", ["-c", `kill ${pid} 2>/dev/null || true`]) });
        let seen = "";
        for (let i = 0; i < 20 && !seen; i++) {
            const r = await client.ssh(`exec 3<>/dev/tcp/${AI_VM}/7000 && timeout 3 cat <&3`);
            seen = r.stdout.trim();
            if (!seen) await new Promise((resolve) => setTimeout(resolve, 250));
        }
        expect(seen).toBe(SECURITY);
        expect(await client.sh(`ping -c 2 -W 2 ${AI_VM}`)).toContain("2 received");
    }, 60_000);

    // Quarantined under CI: in one clean-clone run of three, no datagram reached CrowdSec's syslog source although
    // its socket listened (three sends, bookworm); the cause is not found yet. The same shipper-to-CrowdSec-to-bouncer
    // chain is checked end to end by tests/systems/node.systems.test.ts, which runs under CI. Runs outside CI.
    (process.env["CI"] === "true" ? test.skip : test)(
        "CrowdSec reads the access log as the node's shipper sends it and bans the scanner in it",
        async () => {
            expect(run).toBeDefined();
            // The shipper's destination, as the plan gives it to the node (AIDS_SHIP_ARGS: VMID CONTAINER DEST PORT).
            const nodeSetup = setupNamed(plan, NODE.address as string, "private-security-security-node");
            const args = /^AIDS_SHIP_ARGS='(\d+) (\S+) (\S+) (\d+)'$/m.exec(nodeSetup.stdin);
            expect(args?.[3]).toBe(SECURITY);
            const [dest, port] = [args?.[3] ?? "", args?.[4] ?? ""];
            // CrowdSec's syslog listener may still be starting after the set-up, and syslog over UDP drops what
            // arrives before it listens (on a node, the shipper's next batches would come later): wait for the socket.
            for (const deadline = Date.now() + 60_000; ;) {
                if ((await sec.ssh(`ss -Hulnp 'sport = :${port}'`)).stdout.includes("crowdsec")) break;
                if (Date.now() > deadline)
                    throw new Error(`CrowdSec does not listen on ${dest}:${port}/udp after 60 s`);
                await new Promise((resolve) => setTimeout(resolve, 500));
            }
            // What proxy-log-ship.sh does with each batch of the proxy's lines, from the node's address; sent again
            // (at most twice, 15 s apart) if a datagram was lost, as the lines of a scanner that keeps scanning would be.
            const send = () =>
                node().exec("bash", ["-c", `logger --rfc3164 -n ${dest} -P ${port} -d -t traefik <${ATTACK_LOG}`]);
            send();
            let sent = 1;
            let found: Decision[] = [];
            const start = Date.now();
            for (const deadline = start + 60_000; !found.some((d) => d.value === SCANNER);) {
                if (Date.now() > deadline) {
                    const metrics = await sec.ssh("cscli metrics; journalctl -u crowdsec --no-pager | tail -20");
                    throw new Error(
                        `no ban for ${SCANNER} after 60 s (${sent} sends):\n${metrics.stdout}${metrics.stderr}`,
                    );
                }
                if (sent < 3 && Date.now() > start + sent * 15_000) {
                    send();
                    sent++;
                }
                await new Promise((resolve) => setTimeout(resolve, 500));
                found = await decisions(sec);
            }
            const ban = found.find((d) => d.value === SCANNER);
            expect(ban?.type).toBe("ban");
            expect(ban?.scenario).toMatch(/^crowdsecurity\/http-/);
            expect(security.crowdsec?.banDuration).toBe("4h");
            expect(ban?.duration).toMatch(/^3h5\d?m/);
            expect(found.filter((d) => d.value === VISITOR)).toEqual([]);
        },
        150_000,
    );

    test("nesting: nftables.service asks for a mount namespace, so the security role has nesting on", () =>
        expectNestingFor(sec, "security", ["nftables.service"]));
});
