// Network in mock mode: one environment's VLAN and bridge, and its firewall baseline.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { baselineRules, Network } from "../../components/network";
import { NodeConfig } from "../../config/schema";
import { parsedConfig } from "../helpers/config";
import { one, ofType, record } from "../helpers/pulumi";

const cfg = parsedConfig("public");
const node = cfg.nodes["pve1"] as NodeConfig;

test("the public bridge rides VLAN 20 on the uplink and takes no host address", async () => {
    const resources = await record(() => {
        const provider = new proxmoxve.Provider("p", { endpoint: cfg.proxmox.endpoint });
        return new Network("public-network", {
            environment: "public",
            config: cfg.environments.public,
            nodes: [
                {
                    nodeName: "pve1",
                    provider,
                    bridges: { vmbr2: node.bridges["vmbr2"] as NodeConfig["bridges"][string] },
                },
            ],
        });
    });
    const vlan = one(resources, proxmoxve.network.linux.Vlan);
    // The "<uplink>.<tag>" form alone, as the provider documents it.
    expect(vlan.inputs).toEqual({
        nodeName: "pve1",
        name: "enp5s0.20",
        autostart: true,
        comment: "ai-dualstack public",
    });
    const bridge = one(resources, proxmoxve.network.linux.Bridge);
    expect(bridge.inputs).toMatchObject({ nodeName: "pve1", name: "vmbr2", ports: ["enp5s0.20"], vlanAware: false });
    expect(bridge.inputs).not.toHaveProperty("address");
    expect(bridge.dependencies).toContain(vlan.urn);
    expect(ofType(resources, proxmoxve.network.linux.Bridge).map((b) => b.inputs["name"])).not.toContain("vmbr0");
    expect(bridge.provider).toMatch(/::p::/);

    const group = one(resources, proxmoxve.cluster.firewall.security.GroupLegacy);
    expect(group.inputs["name"]).toBe("aids-public");
});

test("baseline: private trusts its LAN/VPN; public admits SSH and ping from them only", () => {
    const priv = parsedConfig("private").environments.private;
    expect(baselineRules("private", priv)).toEqual([
        expect.objectContaining({ action: "ACCEPT", source: "10.10.10.0/24" }),
        expect.objectContaining({ action: "ACCEPT", source: "192.168.1.0/24" }),
        expect.objectContaining({ action: "ACCEPT", source: "10.8.0.0/24" }),
    ]);
    const pub = baselineRules("public", cfg.environments.public);
    expect(pub).toEqual([
        expect.objectContaining({ source: "10.20.20.0/24" }),
        expect.objectContaining({ proto: "tcp", dport: "22", source: "192.168.1.0/24" }),
        expect.objectContaining({ macro: "Ping", source: "192.168.1.0/24" }),
    ]);
    // Nothing in a baseline is open to the world; only a guest's own rules can publish a port.
    expect(
        [...baselineRules("private", priv), ...pub].every((r) => r.source !== undefined && r.source !== "0.0.0.0/0"),
    ).toBe(true);
});
