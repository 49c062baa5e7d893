import { couldNotCheckPolicy } from "../../policy/coverage";
import {
    guestOnOwnBridge,
    noGuestOnManagementVlan,
    noWideManagementPorts,
    publicLxcOutboundDrop,
    publicVmOutboundDrop,
} from "../../policy/isolation";
import { lxcInputs, miniStack, optionsInputs, rec, T, violations, vmInputs } from "./fixtures";

/** What the given rules could not check, as policy-could-not-check reports it. */
const couldNotCheck = (...rules: Parameters<typeof couldNotCheckPolicy>[0]) => couldNotCheckPolicy(rules);

describe("isolation", () => {
    test("the miniature public stack passes every isolation policy", async () => {
        for (const p of [
            guestOnOwnBridge,
            publicVmOutboundDrop,
            publicLxcOutboundDrop,
            noWideManagementPorts,
            noGuestOnManagementVlan,
            couldNotCheck(guestOnOwnBridge, publicVmOutboundDrop, publicLxcOutboundDrop),
        ]) {
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

    /** The miniature stack with the VM's firewall options added, and the container's changed by `lxc`. */
    const withOptions = (vm: Record<string, unknown>, lxc: Record<string, unknown> = {}) => [
        ...miniStack().map((r) => (r.type === T.options ? rec(T.options, r.name, { ...optionsInputs(), ...lxc }) : r)),
        rec(T.options, "public-ai-firewall-options", {
            enabled: true,
            inputPolicy: "DROP",
            nodeName: "pve1",
            outputPolicy: "DROP",
            vmId: 210,
            ...vm,
        }),
    ];

    test("a public container's firewall accepting outbound traffic is public-lxc-outbound-drop's, not the VM rule's", async () => {
        const stack = withOptions({}, { outputPolicy: "ACCEPT" });
        expect(await violations(publicLxcOutboundDrop, stack)).toEqual([
            "public-lxc-outbound-drop: public-postgres-firewall-options: outputPolicy is ACCEPT on public container public-postgres",
        ]);
        expect(await violations(publicVmOutboundDrop, stack)).toEqual([]);
    });

    test("a public VM's firewall accepting outbound traffic is public-vm-outbound-drop's", async () => {
        const stack = withOptions({ outputPolicy: "ACCEPT" });
        expect(await violations(publicVmOutboundDrop, stack)).toEqual([
            "public-vm-outbound-drop: public-ai-firewall-options: outputPolicy is ACCEPT on public VM public-ai",
        ]);
        expect(await violations(publicLxcOutboundDrop, stack)).toEqual([]);
    });

    test("as the engine hands a stack policy the options (vmId: null beside containerId), the container is still checked", async () => {
        const stack = withOptions({ containerId: null }, { outputPolicy: "ACCEPT", vmId: null });
        expect(await violations(publicLxcOutboundDrop, stack)).toEqual([
            "public-lxc-outbound-drop: public-postgres-firewall-options: outputPolicy is ACCEPT on public container public-postgres",
        ]);
        expect(await violations(publicVmOutboundDrop, stack)).toEqual([]);
    });

    test("options without an output policy take Proxmox's default, ACCEPT", async () => {
        const stack = withOptions({ outputPolicy: null }, { outputPolicy: undefined });
        expect(await violations(publicLxcOutboundDrop, stack)).toEqual([
            "public-lxc-outbound-drop: public-postgres-firewall-options: outputPolicy is unset (Proxmox's default ACCEPT) on public container public-postgres",
        ]);
        expect(await violations(publicVmOutboundDrop, stack)).toEqual([
            "public-vm-outbound-drop: public-ai-firewall-options: outputPolicy is unset (Proxmox's default ACCEPT) on public VM public-ai",
        ]);
    });

    test("a private guest may accept outbound traffic", async () => {
        const stack = [
            rec(T.lxc, "private-postgres", { ...lxcInputs(), tags: ["ai-dualstack", "private"], vmId: 120 }),
            rec(T.options, "o", { ...optionsInputs(), containerId: 120, outputPolicy: "ACCEPT" }),
        ];
        expect(await violations(publicLxcOutboundDrop, stack)).toEqual([]);
        expect(await violations(couldNotCheck(publicLxcOutboundDrop), stack)).toEqual([]);
    });

    test("options naming a guest the stack lacks pass no rule silently: policy-could-not-check says so", async () => {
        const stack = withOptions({ vmId: 299, outputPolicy: "ACCEPT" }, { containerId: 298, outputPolicy: "ACCEPT" });
        expect(await violations(publicVmOutboundDrop, stack)).toEqual([]);
        expect(await violations(publicLxcOutboundDrop, stack)).toEqual([]);
        expect(await violations(couldNotCheck(publicVmOutboundDrop, publicLxcOutboundDrop), stack)).toEqual([
            "policy-could-not-check: public-vm-outbound-drop could not check public-ai-firewall-options: no VM 299 on node pve1 in this stack",
            "policy-could-not-check: public-lxc-outbound-drop could not check public-postgres-firewall-options: no container 298 on node pve1 in this stack",
        ]);
    });

    test("a guest without tags is reported as unchecked, by the bridge rule and the outbound rule", async () => {
        const stack = miniStack().map((r) =>
            r.type === T.lxc ? rec(T.lxc, r.name, { ...lxcInputs(), tags: undefined }) : r,
        );
        expect(await violations(guestOnOwnBridge, stack)).toEqual([]);
        expect(await violations(couldNotCheck(guestOnOwnBridge, publicLxcOutboundDrop), stack)).toEqual([
            "policy-could-not-check: guest-on-own-environment-bridge could not check public-postgres has no tags, so no environment",
            "policy-could-not-check: public-lxc-outbound-drop could not check public-postgres-firewall-options: container public-postgres names no environment in its tags",
        ]);
    });

    test.each([
        [
            "a VM NIC with a VLAN tag",
            rec(T.vm, "public-ai", { ...vmInputs(), networkDevices: [{ bridge: "vmbr2", firewall: true, vlanId: 1 }] }),
            "networkDevices[0] tags VLAN 1",
        ],
        [
            "a container NIC with a VLAN tag",
            rec(T.lxc, "public-postgres", {
                ...lxcInputs(),
                networkInterfaces: [{ bridge: "vmbr2", firewall: true, name: "eth0", vlanId: 30 }],
            }),
            "networkInterfaces[0] tags VLAN 30",
        ],
        [
            "a VLAN-aware bridge",
            rec(T.bridge, "vmbr2", { comment: "public: DMZ", name: "vmbr2", nodeName: "pve1", vlanAware: true }),
            "bridge vmbr2 is VLAN-aware",
        ],
    ])("no guest on a management VLAN: %s", async (_what, r, message) => {
        expect(await violations(noGuestOnManagementVlan, [r])).toEqual([`no-guest-on-management-vlan: ${message}`]);
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
