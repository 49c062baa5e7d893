// The environments' policies: what each admits by default, and what each lets a service publish.

import { POLICIES } from "../../stacks";
import { PRIVATE_POLICY } from "../../stacks/private";
import { PUBLIC_POLICY } from "../../stacks/public";
import { parsedConfig } from "../helpers/config";

test("baseline: private trusts its LAN/VPN; public admits SSH and ping from them only", () => {
    const priv = parsedConfig("private").environments.private.network;
    expect(PRIVATE_POLICY.baselineRules(priv)).toEqual([
        expect.objectContaining({ action: "ACCEPT", source: "10.10.10.0/24" }),
        expect.objectContaining({ action: "ACCEPT", source: "192.168.1.0/24" }),
        expect.objectContaining({ action: "ACCEPT", source: "10.8.0.0/24" }),
    ]);
    const pub = PUBLIC_POLICY.baselineRules(parsedConfig("public").environments.public.network);
    expect(pub).toEqual([
        expect.objectContaining({ source: "10.20.20.0/24" }),
        expect.objectContaining({ proto: "tcp", dport: "22", source: "192.168.1.0/24" }),
        expect.objectContaining({ macro: "Ping", source: "192.168.1.0/24" }),
    ]);
    // Nothing in a baseline is open to the world; only a guest's own rules can publish a port.
    expect(
        [...PRIVATE_POLICY.baselineRules(priv), ...pub].every(
            (r) => r.source !== undefined && r.source !== "0.0.0.0/0",
        ),
    ).toBe(true);
});

test("only public limits publishing, to the proxy's 80 and 443; only private's trusted networks reach everything", () => {
    expect(POLICIES).toEqual({ private: PRIVATE_POLICY, public: PUBLIC_POLICY });
    expect(PRIVATE_POLICY.publishablePorts).toBeUndefined();
    expect(PUBLIC_POLICY.publishablePorts).toEqual([80, 443]);
    expect([PRIVATE_POLICY.trustedSources, PUBLIC_POLICY.trustedSources]).toEqual(["reach-all", "administer"]);
});
