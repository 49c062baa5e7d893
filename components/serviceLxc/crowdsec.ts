// CrowdSec's files, rendered from the container's config: the acquisition (the syslog listener the
// node ships the proxy's access log to), the ban profile, the local API's address, the hub items it
// enables, and the node-side bouncer's override. Plain functions: the tests run them through the
// real crowdsec binary.

import { stringify } from "yaml";
import { CROWDSEC_LAPI_PORT, CROWDSEC_SYSLOG_PORT } from "../../config/resolve/roleFirewall";
import { CrowdsecConfig } from "../../config/schema";

/**
 * The oldest crowdsec the container accepts, from its own Debian suite (bookworm's is 1.4.6-6~deb12u1+b1,
 * which the tests run): a floor, as exact revisions exist in one suite only, and never held, so the
 * suite's security updates keep coming (lib/scripts/pkg-floor.sh).
 */
export const CROWDSEC_MIN_VERSION = "1.4.6";
/** The oldest firewall bouncer the node accepts, from its suite (bookworm on Proxmox VE 8, trixie on 9). */
export const BOUNCER_MIN_VERSION = "0.0.25";
/** The bouncer's name in CrowdSec's local API. */
export const BOUNCER_NAME = "aids-node-firewall";

/**
 * What CrowdSec needs to judge Traefik's access log, from the package's offline hub: the syslog
 * envelope, Traefik's line, the time and HTTP enrichers, and the HTTP scenarios of the
 * crowdsecurity/traefik collection (base-http-scenarios).
 */
export const CROWDSEC_ITEMS: readonly string[] = [
    "parsers/s00-raw/crowdsecurity/syslog-logs.yaml",
    "parsers/s01-parse/crowdsecurity/traefik-logs.yaml",
    "parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml",
    "parsers/s02-enrich/crowdsecurity/http-logs.yaml",
    "scenarios/crowdsecurity/http-probing.yaml",
    "scenarios/crowdsecurity/http-sensitive-files.yaml",
    "scenarios/crowdsecurity/http-crawl-non_statics.yaml",
    "scenarios/crowdsecurity/http-bad-user-agent.yaml",
    "scenarios/crowdsecurity/http-sqli-probing.yaml",
    "scenarios/crowdsecurity/http-xss-probing.yaml",
    "scenarios/crowdsecurity/http-backdoors-attempts.yaml",
    "scenarios/crowdsecurity/http-generic-bf.yaml",
    "scenarios/crowdsecurity/http-open-proxy.yaml",
    "collections/crowdsecurity/traefik.yaml",
];

/** The acquisition: syslog over UDP on the container's address, from the node's shipper. */
export function crowdsecAcquis(listenIp: string, port: number = CROWDSEC_SYSLOG_PORT): string {
    return stringify({
        source: "syslog",
        listen_addr: listenIp,
        listen_port: port,
        labels: { type: "syslog" },
    });
}

/** Every alert on an IP with a remediation becomes a ban for the configured time. */
export function crowdsecProfiles(cs: Pick<CrowdsecConfig, "banDuration">): string {
    return stringify({
        name: "ai-dualstack-ban",
        filters: ['Alert.Remediation == true && Alert.GetScope() == "Ip"'],
        decisions: [{ type: "ban", duration: cs.banDuration }],
        on_success: "break",
    });
}

/** config.yaml.local: the local API on the container's address, where the node's bouncer polls it. */
export function crowdsecLocalConfig(listenIp: string, port: number = CROWDSEC_LAPI_PORT): string {
    return stringify({ api: { server: { listen_uri: `${listenIp}:${port}` } } });
}

/**
 * The local API's URL as the agent's own credentials name it (local_api_credentials.yaml's url, which
 * Debian's postinst writes for 127.0.0.1): crowdsec-setup.sh points it where crowdsecLocalConfig moves the API.
 */
export function crowdsecLapiUrl(listenIp: string, port: number = CROWDSEC_LAPI_PORT): string {
    return `http://${listenIp}:${port}`;
}

/** The node's nftables table that holds the bans (the bouncer fills its set) and the one rule using them. */
export const BOUNCER_TABLE = "aids_crowdsec";
/** The set the bouncer keeps the banned IPv4 addresses in (its blacklists_ipv4). */
export const BOUNCER_SET = "crowdsec-blacklists";

/**
 * The node's bouncer, in nftables set-only mode: it only keeps the banned addresses in BOUNCER_SET
 * of the existing table BOUNCER_TABLE (creating the set if missing) and adds no chain of its own; the
 * one rule that uses the set is bouncerRuleset's. Keys as cs-firewall-bouncer reads them
 * (pkg/cfg/config.go: mode, blacklists_ipv4, nftables.ipv4.{enabled,set-only,table},
 * nftables.ipv6.enabled); set-only exists since v0.0.23, so Debian 12's 0.0.25 has it.
 */
export function bouncerLocalConfig(securityIp: string, apiKey: string): string {
    return stringify({
        mode: "nftables",
        api_url: `http://${securityIp}:${CROWDSEC_LAPI_PORT}/`,
        api_key: apiKey,
        blacklists_ipv4: BOUNCER_SET,
        nftables: { ipv4: { enabled: true, "set-only": true, table: BOUNCER_TABLE }, ipv6: { enabled: false } },
        update_frequency: "10s",
    });
}

/**
 * The node's table for the bans. The decisions come from a log the public VM writes, so a
 * compromised VM can forge lines and get any address banned: the bans therefore drop only what is
 * forwarded to that VM (bridged traffic passes the forward hook, Proxmox's firewall turns bridge
 * netfilter on), never the node's own traffic (input, output) nor the private guests' (issue 19,
 * item 11). The set's type and timeout flag are what the bouncer creates it with.
 */
export function bouncerRuleset(proxyAddress: string): string {
    return [
        "#!/usr/sbin/nft -f",
        "# Managed by ai-dualstack (components/serviceLxc/crowdsec.ts): CrowdSec's bans, toward the public proxy only.",
        `table ip ${BOUNCER_TABLE}`,
        `delete table ip ${BOUNCER_TABLE}`,
        `table ip ${BOUNCER_TABLE} {`,
        `    set ${BOUNCER_SET} {`,
        "        type ipv4_addr",
        "        flags timeout",
        "    }",
        "    chain forward {",
        "        type filter hook forward priority -10; policy accept;",
        `        ip daddr ${proxyAddress} ip saddr @${BOUNCER_SET} counter drop`,
        "    }",
        "}",
    ].join("\n");
}

/** The plan's line for CrowdSec. */
export function describeCrowdsec(cs: CrowdsecConfig, listenIp: string): string {
    return `CrowdSec ≥ ${CROWDSEC_MIN_VERSION} (no Central API): Traefik access log of VM ${cs.proxyVmid} (container ${cs.proxyContainer}) shipped by the node over the guest agent to syslog udp/${listenIp}:${CROWDSEC_SYSLOG_PORT}; HTTP scenarios ban for ${cs.banDuration}; the node's firewall bouncer ≥ ${BOUNCER_MIN_VERSION} drops banned addresses on their way to ${cs.proxyAddress} only (nftables forward) polling ${listenIp}:${CROWDSEC_LAPI_PORT}`;
}
