// The CI/CD runner's firewall, as registered in mock mode and then evaluated the way Proxmox applies
// a guest's outbound rules (first match wins, then the output policy; an IP set matches an address in
// one of its entries unless a `nomatch` entry holds it): the Proxmox API and the internet's web
// servers are reachable, nothing else of the environment, the LAN or the VPN is.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { RUNNER_INTERNET_IPSET, roleOutbound } from "../../config/resolve/roleFirewall";
import { LxcConfig } from "../../config/schema";
import { containsIp, parseCidr } from "../../lib/ipv4";
import { PlannedStack } from "../../testing/planStack";
import { parsedConfig } from "../helpers/config";
import { ofType, one, runStack } from "../helpers/pulumi";

interface Rule {
    type?: string;
    action?: string;
    proto?: string;
    dport?: string;
    dest?: string;
    securityGroup?: string;
}
type Ipsets = Record<string, { name: string; nomatch?: boolean }[]>;

function inSet(ip: string, entries: { name: string; nomatch?: boolean }[]): boolean {
    const hit = (e: { name: string }) => containsIp(parseCidr(e.name.includes("/") ? e.name : `${e.name}/32`), ip);
    return !entries.filter((e) => e.nomatch).some(hit) && entries.filter((e) => !e.nomatch).some(hit);
}

function destMatches(dest: string | undefined, ip: string, ipsets: Ipsets): boolean {
    if (dest === undefined) return true;
    if (dest.startsWith("+")) return inSet(ip, ipsets[dest.slice(1)] ?? []);
    return dest.split(",").some((d) => containsIp(parseCidr(d.includes("/") ? d : `${d}/32`), ip));
}

function portMatches(dport: string | undefined, port: number): boolean {
    if (dport === undefined) return true;
    return dport.split(",").some((part) => {
        const [lo, hi] = part.split(":").map(Number) as [number, number | undefined];
        return port >= lo && port <= (hi ?? lo);
    });
}

/** What Proxmox does with a packet the guest sends: ACCEPT or DROP. */
function verdict(rules: Rule[], policy: string, ipsets: Ipsets, proto: string, ip: string, port: number): string {
    const hit = rules.find(
        (r) =>
            r.type === "out" &&
            (r.proto === undefined || r.proto === proto) &&
            portMatches(r.dport, port) &&
            destMatches(r.dest, ip, ipsets),
    );
    return hit?.action ?? policy;
}

describe("the runner container's outbound firewall, as registered", () => {
    let priv: PlannedStack;
    let check: (proto: string, ip: string, port: number) => string;
    beforeAll(async () => {
        priv = await runStack("private");
        const rules = one(priv.resources, proxmoxve.firewall.RulesLegacy, "private-cicd-firewall-rules").inputs[
            "rules"
        ] as Rule[];
        const options = one(priv.resources, proxmoxve.firewall.OptionsLegacy, "private-cicd-firewall-options").inputs;
        const sets = ofType(priv.resources, proxmoxve.firewall.IpsetLegacy).filter(
            (r) => r.inputs["vmId"] === undefined && r.inputs["containerId"] === undefined,
        );
        const ipsets: Ipsets = Object.fromEntries(
            sets.map((s) => [s.inputs["name"] as string, s.inputs["cidrs"] as { name: string; nomatch?: boolean }[]]),
        );
        expect(Object.keys(ipsets)).toContain(RUNNER_INTERNET_IPSET.name);
        // The baseline group the rules start with holds only inbound rules in the private environment.
        expect(rules[0]).toMatchObject({ comment: "environment baseline" });
        check = (proto, ip, port) =>
            verdict(rules.slice(1), options["outputPolicy"] as string, ipsets, proto, ip, port);
    }, 60_000);

    test.each([
        ["the Proxmox API", "tcp", "192.168.1.10", 8006],
        ["the node's SSH (the preview's host check)", "tcp", "192.168.1.10", 22],
        ["DNS on the gateway", "udp", "10.10.10.1", 53],
        ["github.com", "tcp", "140.82.112.3", 443],
        ["a registry over plain HTTP", "tcp", "151.101.0.223", 80],
    ])("reaches %s", (_what, proto, ip, port) => {
        expect(check(proto, ip, port)).toBe("ACCEPT");
    });

    test.each([
        ["another LAN host's SSH", "tcp", "192.168.1.50", 22],
        ["Ollama on the private AI VM", "tcp", "10.10.10.10", 11434],
        ["Open WebUI on the private AI VM", "tcp", "10.10.10.10", 3000],
        ["PostgreSQL", "tcp", "10.10.10.20", 5432],
        ["Redis", "tcp", "10.10.10.21", 6379],
        ["SSH on the security container", "tcp", "10.10.10.22", 22],
        ["CrowdSec's local API", "tcp", "10.10.10.22", 8080],
        ["Prometheus", "tcp", "10.10.10.24", 9090],
        ["the router's web admin", "tcp", "10.10.10.1", 443],
        ["a LAN host's web server", "tcp", "192.168.1.50", 443],
        ["a VPN client", "tcp", "10.8.0.2", 22],
        ["the public environment", "tcp", "10.20.20.10", 443],
        ["SSH on the internet", "tcp", "140.82.112.3", 22],
    ])("does not reach %s", (_what, proto, ip, port) => {
        expect(check(proto, ip, port)).toBe("DROP");
    });
});

test("only a container with a runner gets its own outbound rules", () => {
    const cfg = parsedConfig("private");
    const net = cfg.environments.private.network;
    expect(roleOutbound(cfg.containers["private-postgres"] as LxcConfig, net, cfg.proxmox)).toBeUndefined();
    expect(roleOutbound(cfg.containers["private-cicd"] as LxcConfig, net, cfg.proxmox)?.outputPolicy).toBe("DROP");
});
