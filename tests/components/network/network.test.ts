// Network in mock mode: one environment's VLAN and bridge, and its firewall baseline.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { Network } from "../../../components/network/network";
import { stackModel } from "../../helpers/config";
import { one, ofType, record } from "../../helpers/pulumi";

const model = stackModel("public");

test("the public bridge rides VLAN 20 on the uplink and takes no host address", async () => {
    const resources = await record(() => {
        const provider = new proxmoxve.Provider("p", { endpoint: model.proxmox.endpoint });
        return new Network("public-network", {
            environment: "public",
            baseline: model.policy.baselineRules(model.network),
            ipsets: model.policy.ipsets,
            nodes: model.nodes.map((node) => ({ nodeName: node.name, provider, bridges: node.bridges })),
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
    expect(group.inputs["rules"]).toEqual(
        model.policy.baselineRules(model.network).map((r) => ({ ...r, enabled: true })),
    );
    // The internet set the egress rules name: cluster-wide, on the same provider, before the group.
    const set = one(resources, proxmoxve.firewall.IpsetLegacy);
    expect(set.inputs["name"]).toBe("aids-pub-inet");
    expect(set.inputs["cidrs"]).toEqual(model.policy.ipsets[0]?.cidrs);
    expect(set.inputs).not.toHaveProperty("nodeName");
    expect(set.inputs).not.toHaveProperty("vmId");
    expect(set.provider).toMatch(/::p::/);
    expect(group.dependencies).toContain(set.urn);
});
