// The environments' policies: what each admits by default, and what each lets a service publish.

import { POLICIES } from "../../stacks";
import { PRIVATE_POLICY } from "../../stacks/private";
import { RUNNER_INTERNET_IPSET } from "../../config/resolve/roleFirewall";
import { PUBLIC_INTERNET_IPSET, PUBLIC_POLICY } from "../../stacks/public";
import { containsIp, parseCidr } from "../../lib/ipv4";
import { parsedConfig } from "../helpers/config";

test("baselines: SSH and ping from the trusted networks, nothing else in; each guest opens its own ports", () => {
    const priv = parsedConfig("private").environments.private.network;
    const admin = (source: string): unknown[] => [
        expect.objectContaining({ type: "in", action: "ACCEPT", proto: "tcp", dport: "22", source }) as unknown,
        expect.objectContaining({ type: "in", action: "ACCEPT", macro: "Ping", source }) as unknown,
    ];
    expect(PRIVATE_POLICY.baselineRules(priv)).toEqual([...admin("192.168.1.0/24"), ...admin("10.8.0.0/24")]);
    const pub = PUBLIC_POLICY.baselineRules(parsedConfig("public").environments.public.network);
    expect(pub.filter((r) => r.type === "in")).toEqual(admin("192.168.1.0/24"));
    // No baseline opens every port to anyone, the LAN and the environment's own guests included.
    expect(
        [...PRIVATE_POLICY.baselineRules(priv), ...pub].filter((r) => r.type === "in" && !r.dport && !r.macro),
    ).toEqual([]);
    // What a published port answers unless it names its own sources.
    expect(PRIVATE_POLICY.publishedFrom(priv)).toEqual(["192.168.1.0/24", "10.8.0.0/24"]);
    expect(PUBLIC_POLICY.publishedFrom(parsedConfig("public").environments.public.network)).toEqual(["any"]);
});

test("public egress: DROP by default; DNS, the DMZ subnet, and web and time on the internet only", () => {
    expect([PUBLIC_POLICY.outputPolicy, PUBLIC_POLICY.ipfilter]).toEqual(["DROP", true]);
    const out = PUBLIC_POLICY.baselineRules(parsedConfig("public").environments.public.network).filter(
        (r) => r.type === "out",
    );
    // In order, since the first match wins: the router itself gets DNS and nothing else.
    expect(out.map(({ comment: _c, ...r }) => r)).toEqual([
        { type: "out", action: "ACCEPT", proto: "udp", dport: "53", dest: "10.20.20.1" },
        { type: "out", action: "ACCEPT", proto: "tcp", dport: "53", dest: "10.20.20.1" },
        { type: "out", action: "DROP", dest: "10.20.20.1" },
        { type: "out", action: "ACCEPT", dest: "10.20.20.0/24" },
        { type: "out", action: "ACCEPT", proto: "tcp", dport: "80,443", dest: "+aids-pub-inet" },
        { type: "out", action: "ACCEPT", proto: "udp", dport: "123", dest: "+aids-pub-inet" },
    ]);
    // The internet set: both halves of IPv4, with every private and special block taken out.
    expect(PUBLIC_POLICY.ipsets).toEqual([PUBLIC_INTERNET_IPSET]);
    const entries = PUBLIC_INTERNET_IPSET.cidrs;
    expect(entries.filter((c) => !c.nomatch).map((c) => c.name)).toEqual(["0.0.0.0/1", "128.0.0.0/1"]);
    const excluded = entries.filter((c) => c.nomatch).map((c) => c.name);
    for (const net of ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]) {
        expect(excluded).toContain(net);
    }
    // So neither the private environment nor the LAN is on the internet as the DMZ sees it.
    const inSet = (ip: string) =>
        entries.some((c) => !c.nomatch && containsIp(parseCidr(c.name), ip)) &&
        !entries.some((c) => c.nomatch && containsIp(parseCidr(c.name), ip));
    expect(["10.10.10.10", "192.168.1.10", "10.8.0.5", "127.0.0.1"].map(inSet)).toEqual([false, false, false, false]);
    expect(["1.1.1.1", "140.82.112.3"].map(inSet)).toEqual([true, true]);
});

test("private guests send freely but only from their own address", () => {
    expect([PRIVATE_POLICY.outputPolicy, PRIVATE_POLICY.ipfilter, PRIVATE_POLICY.ipsets]).toEqual([
        "ACCEPT",
        true,
        [RUNNER_INTERNET_IPSET],
    ]);
});

test("only public limits publishing, to the proxy's 80, 443 and trusted entrypoint; only private's trusted networks reach everything", () => {
    expect(POLICIES).toEqual({ private: PRIVATE_POLICY, public: PUBLIC_POLICY });
    expect(PRIVATE_POLICY.publishablePorts).toBeUndefined();
    expect(PUBLIC_POLICY.publishablePorts).toEqual([80, 443, 8480]);
    expect([PRIVATE_POLICY.trustedSources, PUBLIC_POLICY.trustedSources]).toEqual(["only-way-in", "administer"]);
});

test("only private services may mount the Docker socket; the public cAdvisor does without it", () => {
    expect([PRIVATE_POLICY.dockerSocket, PUBLIC_POLICY.dockerSocket]).toEqual(["allowed", "refused"]);
    const cadvisor = parsedConfig("public").vms["public-ai"]?.services["cadvisor"];
    expect(cadvisor?.volumes.map((v) => v.source)).toEqual(["/sys", "/var/lib/docker"]);
});
