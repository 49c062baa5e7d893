// The security container's set-up: WireGuard into the environment (the server key from serviceSecrets,
// peers from config, each peer's client config without its private key as an output) and CrowdSec on
// the public proxy's access log, with the node-side parts (the WireGuard module, the firewall bouncer,
// the log shipper). Each part is an idempotent script run over root SSH, like the data setups.

import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ContainerModel } from "../../config/resolve";
import { CROWDSEC_SYSLOG_PORT } from "../../config/roleFirewall";
import { EnvironmentConfig, ProxmoxConfig } from "../../config/schema";
import { containsNetwork, networkCidr, parseCidr } from "../../lib/ipv4";
import { PKG_FLOOR, loadScript, renderScript } from "../../lib/scripts";
import { WgPeer, renderClientConfig, renderServerConfig, wgPublicKey } from "../../lib/wireguard";
import { rootSsh, scriptCommand, secretOf } from "../remoteScript";
import {
    BOUNCER_NAME,
    BOUNCER_MIN_VERSION,
    CROWDSEC_ITEMS,
    CROWDSEC_MIN_VERSION,
    bouncerLocalConfig,
    crowdsecAcquis,
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

type Wireguard = NonNullable<ContainerModel["wireguard"]>;
type Crowdsec = NonNullable<ContainerModel["crowdsec"]>;

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

/**
 * The container's whole nftables ruleset: it forwards only from the tunnel to the destinations, and
 * the replies back; nothing from the environment into the tunnel, nothing from the tunnel elsewhere.
 */
export function renderForwardRules(destinations: readonly string[]): string {
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
        "}",
    ].join("\n");
}

export function renderWireguardScript(wg: Wireguard, destinations: readonly string[], privateKey: string): string {
    const conf = renderServerConfig({ address: wg.address, listenPort: wg.listenPort, peers: wgPeers(wg) }, privateKey);
    return renderScript(
        COMMENT,
        {
            AIDS_WG_CONF: conf,
            AIDS_WG_NFT: renderForwardRules(destinations),
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
            AIDS_CS_BOUNCER: BOUNCER_NAME,
            AIDS_CS_BOUNCER_KEY: bouncerKey,
        },
        CROWDSEC,
    );
}

/** The node's part: the WireGuard module; CrowdSec's bouncer and the access-log shipper. */
export function renderSecurityHostScript(
    ct: Pick<ContainerModel, "wireguard" | "crowdsec">,
    securityIp: string,
    bouncerKey: string,
): string {
    const cs = ct.crowdsec;
    return renderScript(
        "Rendered by ai-dualstack (components/serviceLxc/security.ts). Do not edit on the host.",
        {
            AIDS_WIREGUARD: ct.wireguard ? "1" : "0",
            AIDS_CROWDSEC: cs ? "1" : "0",
            AIDS_BOUNCER_MIN_VERSION: BOUNCER_MIN_VERSION,
            AIDS_BOUNCER_LOCAL: cs ? bouncerLocalConfig(securityIp, bouncerKey) : "",
            // Base64: a script inside a single-quoted value would read as one to shellcheck.
            AIDS_SHIPPER_B64: Buffer.from(SHIPPER, "utf8").toString("base64"),
            AIDS_SHIP_ARGS: cs ? `${cs.proxyVmid} ${cs.proxyContainer} ${securityIp} ${CROWDSEC_SYSLOG_PORT}` : "",
        },
        HOST,
    );
}

export function describeWireguard(wg: Wireguard, ip: string, destinations: readonly string[]): string {
    const peers = wgPeers(wg).map((p) => `${p.name} ${p.address}`);
    return `WireGuard on udp/${ip}:${wg.listenPort} (${wg.endpoint}), VPN ${networkCidr(wg.address)}; peers: ${peers.join(", ") || "none"}; clients reach ${destinations.join(", ")} (nftables forward, nothing else)`;
}

export interface SecuritySetupArgs {
    readonly container: Pick<ContainerModel, "name" | "wireguard" | "crowdsec">;
    readonly address: string;
    readonly sshPrivateKey: pulumi.Input<string>;
    readonly secrets: Readonly<Record<string, pulumi.Output<string>>>;
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
        super("ai-dualstack:security:SecuritySetup", name, {}, opts);
        const { wireguard: wg, crowdsec: cs } = args.container;
        const secret = (n: string) => secretOf(args.secrets, n, name);
        const connection = rootSsh(args.address, args.sshPrivateKey);
        const bouncerKey = cs ? secret(cs.bouncerKeySecret) : pulumi.output("");
        const lines: string[] = [];
        // CrowdSec first: the node's bouncer needs its local API; WireGuard last: it needs the node's module.
        const crowdsec = cs
            ? this.run(
                  `${name}-crowdsec`,
                  `installs CrowdSec ≥ ${CROWDSEC_MIN_VERSION}, its Traefik parser, HTTP scenarios and ban profile (script held secret: it carries the bouncer key)`,
                  bouncerKey.apply((k) => renderCrowdsecScript(cs, args.address, k)),
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
            bouncerKey.apply((k) => renderSecurityHostScript(args.container, args.address, k)),
            args.hostConnection,
            [...(crowdsec ? [crowdsec] : []), ...args.dependsOn],
        );
        let clients = pulumi.output<Record<string, string>>({});
        if (wg) {
            const dests = vpnDestinations(wg, args.network, args.proxmox.managementSources, args.nodeAddress);
            const key = secret(wg.privateKeySecret);
            this.run(
                `${name}-wireguard`,
                `installs WireGuard (wg0, ${Object.keys(wg.peers).length} peers) and the VPN forward rules (script held secret: it carries the server key)`,
                key.apply((k) => renderWireguardScript(wg, dests, k)),
                connection,
                [node, ...args.dependsOn],
            );
            // The public half is no secret: peers need it in their configs.
            clients = pulumi.unsecret(key.apply((k) => clientConfigs(wg, dests, wgPublicKey(k))));
            lines.push(describeWireguard(wg, args.address, dests));
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
