// The role set-ups of the security and CI/CD containers: WireGuard (VPN into the trusted networks),
// CrowdSec (the public proxy's access logs, bans at the host firewall) and the GitHub Actions runner.

import { z } from "zod";
import { WG_KEY_PATTERN } from "../../lib/wireguard";
import { cidr, d, ipv4, label, secretRef, vmid } from "./fields";

const wgKey = z
    .string()
    .regex(WG_KEY_PATTERN, "must be a WireGuard key: 44 characters of base64, as `wg pubkey` prints");
const secretName = (what: string) => secretRef(`The serviceSecrets name holding ${what}.`);

export const WireguardPeerSchema = z.strictObject({
    publicKey: wgKey.meta(
        d("The peer's public key (`wg genkey | tee peer.key | wg pubkey`); its private key stays on the device."),
    ),
    address: ipv4.meta(d('The peer\'s address inside the VPN network, such as "10.8.0.2".')),
});

export const WireguardSchema = z
    .strictObject({
        address: cidr.meta(
            d(
                "The server's VPN address with the VPN network's prefix, such as \"10.8.0.1/24\"; that network must be one of environments.<env>.network.trustedSources.",
            ),
        ),
        listenPort: z.number().int().min(1).max(65535).default(51820).meta(d("UDP port WireGuard listens on.")),
        endpoint: z
            .string()
            .regex(/^[A-Za-z0-9.-]+$/, 'must be a host name or IP address, such as "vpn.example.com"')
            .meta(
                d(
                    "Where peers dial in: the router's public name or address, which forwards listenPort/udp to the container.",
                ),
            ),
        listenFrom: z
            .array(z.union([z.literal("any"), cidr]))
            .default(["any"])
            .meta(
                d(
                    "Who may send to listenPort (the container's firewall): \"any\" for roaming peers behind the router's port forward. WireGuard answers no packet without a configured peer's key.",
                ),
            ),
        privateKeySecret: secretName("the server's private key (`wg genkey`)"),
        dns: z
            .array(ipv4)
            .default([])
            .meta(d("DNS servers written into the peers' configs, such as the environment's gateway.")),
        peers: z
            .record(label, WireguardPeerSchema)
            .default({})
            .meta(d("VPN clients by name: each one's client config (without its private key) is a stack output.")),
    })
    .meta(
        d(
            "role security: WireGuard into the environment, installed over SSH; clients reach what trustedSources lets in.",
        ),
    );

export const CrowdsecSchema = z
    .strictObject({
        proxyVmid: vmid.meta(
            d(
                "The public VM that runs the reverse proxy (Traefik): the node reads its access log through the guest agent, so no network path leads from it to this container.",
            ),
        ),
        proxyAddress: ipv4.meta(
            d(
                'That VM\'s address, such as "10.20.20.10": the node drops banned addresses only on their way to it, so a forged log line cannot cut the node or the private guests off from anything.',
            ),
        ),
        proxyContainer: z
            .string()
            .regex(/^[a-z0-9][a-z0-9_.-]*$/, "must be a Docker container name")
            .default("proxy")
            .meta(d("The proxy's Docker container on that VM (its service name).")),
        banDuration: z
            .string()
            .regex(/^\d+[mh]$/, 'must be minutes or hours such as "30m" or "4h"')
            .default("4h")
            .meta(d("How long an offender stays banned.")),
        bouncerKeySecret: secretName("the API key the node's firewall bouncer uses (`openssl rand -hex 32`)"),
    })
    .meta(
        d(
            "role security: CrowdSec judges the public proxy's access log (Traefik parsers and HTTP scenarios) and the node's firewall bouncer drops banned addresses.",
        ),
    );

export const RunnerSchema = z
    .strictObject({
        repository: z
            .string()
            .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be "owner/name" of a GitHub repository')
            .meta(d("The GitHub repository whose workflows the runner takes jobs from.")),
        tokenSecret: secretName(
            "a GitHub token that may create just-in-time runner configurations for the repository: a fine-grained personal access token for that repository alone with the permission Administration: read and write (the container keeps it readable by root only; the jobs run as another user)",
        ),
        labels: z
            .array(z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be a runner label"))
            .default(["ai-dualstack"])
            .meta(
                d(
                    "Labels besides self-hosted, linux and x64; the workflows' LAN jobs (preview, deploy, drift) ask for ai-dualstack.",
                ),
            ),
    })
    .meta(
        d(
            "role cicd: a GitHub Actions runner (pinned release, sha256-checked), registered just in time for one job at a time with an empty work folder, which runs the workflows' previews, deploys and drift checks inside the LAN; it reaches the Proxmox API, the node's SSH and the internet, nothing else of the environment.",
        ),
    );

export type WireguardConfig = z.infer<typeof WireguardSchema>;
export type CrowdsecConfig = z.infer<typeof CrowdsecSchema>;
export type RunnerConfig = z.infer<typeof RunnerSchema>;
