import { guestOnOwnBridge, noWideManagementPorts, publicOutboundDrop } from "../../policy/isolation";
import { lxcInputs, miniStack, optionsInputs, rec, T, violations, vmInputs } from "./fixtures";

describe("isolation", () => {
    test("the miniature public stack passes every isolation policy", async () => {
        for (const p of [guestOnOwnBridge, publicOutboundDrop, noWideManagementPorts]) {
            expect(await violations(p, miniStack())).toEqual([]);
        }
    });

    test("a public guest on the private bridge", async () => {
        const stack = [
            ...miniStack(),
            rec(T.bridge, "vmbr1", { comment: "private: LAN/VPN only", name: "vmbr1", nodeName: "pve1" }),
            rec(T.lxc, "public-redis", { ...lxcInputs(), networkInterfaces: [{ bridge: "vmbr1", firewall: true }] }),
        ];
        expect(await violations(guestOnOwnBridge, stack)).toEqual([
            "guest-on-own-environment-bridge: public-redis (public) is on bridge vmbr1 of environment private",
        ]);
    });

    test("a guest on a bridge the stack does not declare", async () => {
        const stack = [
            ...miniStack(),
            rec(T.vm, "public-ai-2", { ...vmInputs(), networkDevices: [{ bridge: "vmbr0" }] }),
        ];
        expect(await violations(guestOnOwnBridge, stack)).toEqual([
            "guest-on-own-environment-bridge: public-ai-2 (public) is on bridge vmbr0, which this stack does not declare",
        ]);
    });

    test("a bridge unknown in preview is skipped", async () => {
        const stack = [...miniStack(), rec(T.vm, "public-ai-2", { ...vmInputs(), networkDevices: [{}] })];
        expect(await violations(guestOnOwnBridge, stack)).toEqual([]);
    });

    test("a public guest's firewall accepting outbound traffic", async () => {
        const stack = miniStack().map((r) =>
            r.type === T.options ? rec(T.options, r.name, { ...optionsInputs(), outputPolicy: "ACCEPT" }) : r,
        );
        expect(await violations(publicOutboundDrop, stack)).toEqual([
            "public-guest-outbound-drop: public-postgres-firewall-options: outputPolicy is ACCEPT on public guest public-postgres",
        ]);
    });

    test("a private guest may accept outbound traffic", async () => {
        const stack = [
            rec(T.lxc, "private-postgres", { ...lxcInputs(), tags: ["ai-dualstack", "private"], vmId: 120 }),
            rec(T.options, "o", { ...optionsInputs(), containerId: 120, outputPolicy: "ACCEPT" }),
        ];
        expect(await violations(publicOutboundDrop, stack)).toEqual([]);
    });

    const rule = { action: "ACCEPT", dport: "22", enabled: true, proto: "tcp", source: "192.168.1.0/24", type: "in" };
    test.each([
        ["SSH from the LAN", rule, []],
        ["SSH from anywhere", { ...rule, source: "0.0.0.0/0" }, ["rule opens port 22 from 0.0.0.0/0"]],
        [
            "the UI in a port range from a /4",
            { ...rule, dport: "8000:8010", source: "16.0.0.0/4" },
            ["rule opens port 8000:8010 from 16.0.0.0/4"],
        ],
        [
            "the SSH macro with no source",
            { action: "ACCEPT", macro: "SSH", type: "in" },
            ["rule opens SSH from anywhere"],
        ],
        ["a web port from anywhere", { ...rule, dport: "80,443", source: "0.0.0.0/0" }, []],
        ["a DROP rule", { ...rule, action: "DROP", source: "0.0.0.0/0" }, []],
    ])("management ports: %s", async (_what, r, expected) => {
        const found = await violations(noWideManagementPorts, [
            rec(T.rules, "rules", { containerId: 220, rules: [r] }),
        ]);
        expect(found).toEqual(expected.map((m) => `no-wide-management-ports: ${m}`));
    });

    test("a security group opening SSH to the internet", async () => {
        const group = rec(T.group, "baseline", { name: "aids-public", rules: [{ ...rule, source: "0.0.0.0/0" }] });
        expect(await violations(noWideManagementPorts, [group])).toEqual([
            "no-wide-management-ports: security group aids-public opens port 22 from 0.0.0.0/0",
        ]);
    });
});
