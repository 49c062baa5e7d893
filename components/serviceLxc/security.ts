// The security container's set-up: WireGuard into the environment (the server key from serviceSecrets,
// peers from config, each peer's client config without its private key as an output) and CrowdSec on
// the public proxy's access log, with the node-side parts (the WireGuard module, the firewall bouncer,
// the log shipper). Each part is an idempotent script run over root SSH, like the data setups.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { withFormerTypes } from "../formerTypes";
import { LxcModel } from "../../config/resolve";
import { CROWDSEC_SYSLOG_PORT } from "../../config/resolve/roleFirewall";
import { EnvironmentConfig, ProxmoxConfig } from "../../config/schema";
import { containsNetwork, networkCidr, parseCidr } from "../../lib/ipv4";
import { PKG_FLOOR, loadScript, renderScript } from "../../lib/scripts";
import { WgPeer, renderClientConfig, renderServerConfig, wgPublicKey } from "../../lib/wireguard";
import { rootSsh, scriptCommand } from "../remoteScript";
import {
    BOUNCER_NAME,
    BOUNCER_MIN_VERSION,
    CROWDSEC_ITEMS,
    CROWDSEC_MIN_VERSION,
    bouncerLocalConfig,
    bouncerRuleset,
    crowdsecAcquis,
    crowdsecLapiUrl,
    crowdsecLocalConfig,
    crowdsecProfiles,
    describeCrowdsec,
} from "./crowdsec";

const COMMENT = "Rendered by ai-dualstack (components/serviceLxc/security.ts). Do not edit in the container.";
const WIREGUARD = loadScript(__dirname, "wireguard-setup.sh");
// The bouncer's registration, a function of its own so that the tests run it against the real cscli.
const CROWDSEC = `${PKG_FLOOR}\n${loadScript(__dirname, "crowdsec-bouncer.sh")}\n${loadScript(__dirname, "crowdsec-setup.sh")}`;
const HOST = `${PKG_FLOOR}\n${loadScript(__dirname, "security-host.sh")}`;
const SHIPPER = loadScript(__dirname, "proxy-log-ship.sh");

type Wireguard = NonNullable<LxcModel["wireguard"]>;
type Crowdsec = NonNullable<LxcModel["crowdsec"]>;

/** What the VPN's clients may reach: the environment's network, and the node when the VPN administers it. */
export function vpnDestinations(
    wg: Pick<Wireguard, "address">,
    network: Pick<EnvironmentConfig["network"], "cidr">,
    managementSources: readonly string[],
    nodeAddress: string | undefined,
): string[] {
    const vpn = parseCidr(networkCidr(wg.address));
    const manages = managementSources.some((m) => containsNetwork(parseCidr(m), vpn));
    return [network.cidr, ...(manages && nodeAddress !== undefined ? [`${nodeAddress}/32`] : [])];
}

export function wgPeers(wg: Pick<Wireguard, "peers">): WgPeer[] {
    return Object.entries(wg.peers)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, p]) => ({ name, publicKey: p.publicKey, address: p.address }));
}

/** The container's own network interface (Proxmox names an LXC's net0 eth0). */
export const LAN_INTERFACE = "eth0";

/**
 * The container's whole nftables ruleset: it forwards only from the tunnel to the destinations, and
 * the replies back; nothing from the environment into the tunnel, nothing from the tunnel elsewhere.
 * What the tunnel sends to the container's own subnet leaves with the container's address
 * (masquerade): a guest there answers the container directly, on the same link. With the peers'
 * own addresses it would answer its default gateway, the router, which routes the VPN back here; a
 * stateful router has not seen the request and drops that reply (issue 19, item 7). Toward other
 * networks the request already passes the router, so the path is symmetric and stays unmasqueraded.
 */
export function renderForwardRules(destinations: readonly string[], vpn: string, lan: string): string {
    return [
        "#!/usr/sbin/nft -f",
        "# Managed by ai-dualstack (components/serviceLxc/security.ts).",
        "flush ruleset",
        "table inet aids_vpn {",
        "    chain forward {",
        "        type filter hook forward priority 0; policy drop;",
        "        ct state established,related accept",
        `        iifname "wg0" ip daddr { ${destinations.join(", ")} } accept`,
        "    }",
        "    chain postrouting {",
        "        type nat hook postrouting priority srcnat; policy accept;",
        `        oifname "${LAN_INTERFACE}" ip saddr ${vpn} ip daddr ${lan} masquerade`,
        "    }",
        "}",
    ].join("\n");
}

export function renderWireguardScript(
    wg: Wireguard,
    destinations: readonly string[],
    lan: string,
    privateKey: string,
): string {
    const conf = renderServerConfig({ address: wg.address, listenPort: wg.listenPort, peers: wgPeers(wg) }, privateKey);
    return renderScript(
        COMMENT,
        {
            AIDS_WG_CONF: conf,
            AIDS_WG_NFT: renderForwardRules(destinations, networkCidr(wg.address), lan),
            AIDS_WG_FORWARD_TO: destinations.join(" "),
        },
        WIREGUARD,
    );
}

/** Each peer's client config, without its private key. */
export function clientConfigs(wg: Wireguard, destinations: readonly string[], serverPublicKey: string) {
    return Object.fromEntries(
        wgPeers(wg).map((peer) => [
            peer.name,
            renderClientConfig({
                peer,
                serverPublicKey,
                endpoint: `${wg.endpoint}:${wg.listenPort}`,
                allowedIps: destinations,
                dns: wg.dns,
            }),
        ]),
    );
}

export function renderCrowdsecScript(cs: Crowdsec, listenIp: string, bouncerKey: string): string {
    return renderScript(
        COMMENT,
        {
            AIDS_CS_MIN_VERSION: CROWDSEC_MIN_VERSION,
            AIDS_CS_ITEMS: CROWDSEC_ITEMS.join(" "),
            AIDS_CS_ACQUIS: crowdsecAcquis(listenIp),
            AIDS_CS_PROFILES: crowdsecProfiles(cs),
            AIDS_CS_LOCAL: crowdsecLocalConfig(listenIp),
            AIDS_CS_LAPI_URL: crowdsecLapiUrl(listenIp),
            AIDS_CS_BOUNCER: BOUNCER_NAME,
            AIDS_CS_BOUNCER_KEY: bouncerKey,
        },
        CROWDSEC,
    );
}

/** The node's part: the WireGuard module; CrowdSec's bouncer and the access-log shipper. */
export function renderSecurityHostScript(
    lxc: Pick<LxcModel, "wireguard" | "crowdsec">,
    securityIp: string,
    bouncerKey: string,
): string {
    const cs = lxc.crowdsec;
    return renderScript(
        "Rendered by ai-dualstack (components/serviceLxc/security.ts). Do not edit on the host.",
        {
            AIDS_WIREGUARD: lxc.wireguard ? "1" : "0",
            AIDS_CROWDSEC: cs ? "1" : "0",
            AIDS_BOUNCER_MIN_VERSION: BOUNCER_MIN_VERSION,
            AIDS_BOUNCER_LOCAL: cs ? bouncerLocalConfig(securityIp, bouncerKey) : "",
            AIDS_BOUNCER_NFT: cs ? bouncerRuleset(cs.proxyAddress) : "",
            // Base64: a script inside a single-quoted value would read as one to shellcheck.
            AIDS_SHIPPER_B64: Buffer.from(SHIPPER, "utf8").toString("base64"),
            AIDS_SHIP_ARGS: cs ? `${cs.proxyVmid} ${cs.proxyContainer} ${securityIp} ${CROWDSEC_SYSLOG_PORT}` : "",
        },
        HOST,
    );
}

export function describeWireguard(wg: Wireguard, ip: string, destinations: readonly string[], lan: string): string {
    const peers = wgPeers(wg).map((p) => `${p.name} ${p.address}`);
    return `WireGuard on udp/${ip}:${wg.listenPort} (${wg.endpoint}), VPN ${networkCidr(wg.address)}; peers: ${peers.join(", ") || "none"}; clients reach ${destinations.join(", ")} (nftables forward, nothing else), masqueraded as ${ip} toward ${lan}`;
}

export interface SecuritySetupArgs {
    /** WireGuard's settings, with the server's private key its script carries. */
    readonly wireguard?: { readonly settings: Wireguard; readonly privateKey: pulumi.Output<string> };
    /** CrowdSec's settings, with the bouncer's key its scripts carry. */
    readonly crowdsec?: { readonly settings: Crowdsec; readonly bouncerKey: pulumi.Output<string> };
    readonly address: string;
    readonly sshPrivateKey: pulumi.Input<string>;
    /** Root SSH to the node the container runs on. */
    readonly hostConnection: command.types.input.remote.ConnectionArgs;
    readonly network: Pick<EnvironmentConfig["network"], "cidr">;
    readonly proxmox: Pick<ProxmoxConfig, "managementSources">;
    readonly nodeAddress?: string;
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class SecuritySetup extends pulumi.ComponentResource {
    public readonly description: string;
    /** Peer name → its client config without the private key (wg-quick format). */
    public readonly clientConfigs: pulumi.Output<Record<string, string>>;
    public readonly endpoints: string[] = [];
    public readonly commands: command.remote.Command[] = [];

    constructor(name: string, args: SecuritySetupArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "ai-dualstack:serviceLxc:SecuritySetup",
            name,
            {},
            withFormerTypes("ai-dualstack:serviceLxc:SecuritySetup", opts),
        );
        const wg = args.wireguard?.settings;
        const cs = args.crowdsec?.settings;
        const connection = rootSsh(args.address, args.sshPrivateKey);
        const crowdsecArgs = args.crowdsec;
        const lines: string[] = [];
        // CrowdSec first: the node's bouncer needs its local API; WireGuard last: it needs the node's module.
        const crowdsec = crowdsecArgs
            ? this.run(
                  `${name}-crowdsec`,
                  `installs CrowdSec ≥ ${CROWDSEC_MIN_VERSION}, its Traefik parser, HTTP scenarios and ban profile (script held secret: it carries the bouncer key)`,
                  crowdsecArgs.bouncerKey.apply((k) => renderCrowdsecScript(crowdsecArgs.settings, args.address, k)),
                  connection,
                  args.dependsOn,
              )
            : undefined;
        const nodeParts = [
            ...(wg ? ["loads the wireguard module"] : []),
            ...(cs
                ? [`installs crowdsec-firewall-bouncer ≥ ${BOUNCER_MIN_VERSION} and the proxy access-log shipper`]
                : []),
        ];
        const node = this.run(
            `${name}-node`,
            `on the node: ${nodeParts.join("; ")} (script held secret: it carries the bouncer key)`,
            nodeScript(wg, crowdsecArgs, args.address),
            args.hostConnection,
            [...(crowdsec ? [crowdsec] : []), ...args.dependsOn],
        );
        let clients = pulumi.output<Record<string, string>>({});
        if (args.wireguard && wg) {
            const dests = vpnDestinations(wg, args.network, args.proxmox.managementSources, args.nodeAddress);
            const key = args.wireguard.privateKey;
            this.run(
                `${name}-wireguard`,
                `installs WireGuard (wg0, ${Object.keys(wg.peers).length} peers) and the VPN forward rules (script held secret: it carries the server key)`,
                key.apply((k) => renderWireguardScript(wg, dests, args.network.cidr, k)),
                connection,
                [node, ...args.dependsOn],
            );
            // The public half is no secret: peers need it in their configs.
            clients = pulumi.unsecret(key.apply((k) => clientConfigs(wg, dests, wgPublicKey(k))));
            lines.push(describeWireguard(wg, args.address, dests, args.network.cidr));
            this.endpoints.push(`udp://${args.address}:${wg.listenPort} (WireGuard)`);
        }
        if (cs) {
            lines.push(describeCrowdsec(cs, args.address));
            this.endpoints.push(`udp://${args.address}:${CROWDSEC_SYSLOG_PORT} (syslog from the node)`);
        }
        this.description = lines.join("; ");
        this.clientConfigs = clients;
        this.registerOutputs({ description: this.description, clientConfigs: this.clientConfigs });
    }

    /** One idempotent script over root SSH; its stdin stays secret (keys, tokens). */
    private run(
        name: string,
        text: string,
        stdin: pulumi.Output<string>,
        connection: command.types.input.remote.ConnectionArgs,
        dependsOn: pulumi.Input<pulumi.Resource>[],
    ): command.remote.Command {
        const cmd = scriptCommand(name, text, { connection, stdin }, { parent: this, dependsOn });
        this.commands.push(cmd);
        return cmd;
    }
}

/** The node's script: it carries CrowdSec's bouncer key when there is one, and then waits for it. */
function nodeScript(
    wireguard: LxcModel["wireguard"],
    crowdsec: SecuritySetupArgs["crowdsec"],
    address: string,
): pulumi.Output<string> {
    if (!crowdsec) return pulumi.output(renderSecurityHostScript({ wireguard }, address, ""));
    return crowdsec.bouncerKey.apply((k) =>
        renderSecurityHostScript({ wireguard, crowdsec: crowdsec.settings }, address, k),
    );
}
