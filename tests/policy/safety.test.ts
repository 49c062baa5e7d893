import { couldNotCheckPolicy } from "../../policy/coverage";
import {
    backupsScheduled,
    guestFirewallDefaultDrop,
    guestNicFirewall,
    lxcUnprivileged,
    protectStateful,
    publicPublishesWebOnly,
} from "../../policy/safety";
import { containerInputs, lxcInputs, miniStack, optionsInputs, rec, T, violations, vmInputs } from "./fixtures";

describe("safety", () => {
    test("the miniature public stack passes every mandatory safety policy", async () => {
        for (const p of [
            protectStateful,
            lxcUnprivileged,
            guestFirewallDefaultDrop,
            guestNicFirewall,
            publicPublishesWebOnly,
        ]) {
            expect(await violations(p, miniStack())).toEqual([]);
        }
    });

    test.each([
        [rec(T.vm, "public-ai", vmInputs()), "GPU VM is not protected"],
        [rec(T.zfs, "pool", { name: "tankpriv" }), "ZFS pool tankpriv is not protected"],
        [rec(T.lxc, "public-postgres", lxcInputs()), "postgresql container is not protected"],
        [
            rec(T.lxc, "private-backup", { ...lxcInputs(), tags: ["ai-dualstack", "backup", "private"] }),
            "backup container is not protected",
        ],
    ])("unprotected %#", async (resource, message) => {
        expect(await violations(protectStateful, [resource])).toEqual([`protect-stateful: ${message}`]);
        expect(await violations(protectStateful, [{ ...resource, protect: true }])).toEqual([]);
    });

    test("a redis container and a VM without a GPU need no protection", async () => {
        const redis = rec(T.lxc, "redis", { ...lxcInputs(), tags: ["ai-dualstack", "redis"] });
        const vm = rec(T.vm, "plain", { ...vmInputs(), hostpcis: [] });
        expect(await violations(protectStateful, [redis, vm])).toEqual([]);
    });

    test("a privileged container", async () => {
        const lxc = rec(T.lxc, "public-postgres", { ...lxcInputs(), unprivileged: false }, true);
        expect(await violations(lxcUnprivileged, [lxc])).toEqual([
            "lxc-unprivileged: container is privileged (unprivileged: false)",
        ]);
        // The provider's default is false: a container that leaves it out is privileged.
        const { unprivileged: _, ...unset } = lxcInputs();
        expect(await violations(lxcUnprivileged, [rec(T.lxc, "public-postgres", unset, true)])).toEqual([
            "lxc-unprivileged: container is privileged (unprivileged: unset, the provider's default false)",
        ]);
    });

    test.each([
        [{ enabled: false }, "the guest firewall is disabled"],
        // The provider's default is false: options that leave it out switch the firewall off.
        [{ enabled: undefined }, "the guest firewall is disabled (enabled unset: the provider's default false)"],
        [{ inputPolicy: "ACCEPT" }, "inputPolicy is ACCEPT, not DROP"],
    ])("guest firewall options %j", async (patch, message) => {
        const o = rec(T.options, "o", { ...optionsInputs(), ...patch });
        expect(await violations(guestFirewallDefaultDrop, [o])).toEqual([`guest-firewall-default-drop: ${message}`]);
    });

    test("an interface without the firewall", async () => {
        const vm = rec(
            T.vm,
            "public-ai",
            { ...vmInputs(), networkDevices: [{ bridge: "vmbr2", firewall: false }] },
            true,
        );
        const lxc = rec(T.lxc, "ct", { ...lxcInputs(), networkInterfaces: [{ bridge: "vmbr2" }] }, true);
        expect(await violations(guestNicFirewall, [vm, lxc])).toEqual([
            "guest-nic-firewall: networkDevices[0] does not set firewall: true",
            "guest-nic-firewall: networkInterfaces[0] does not set firewall: true",
        ]);
    });

    test("a public container publishing Ollama's port", async () => {
        const ollama = rec(T.container, "ollama", {
            ...containerInputs(),
            ports: [{ external: 11434, internal: 11434 }],
        });
        expect(await violations(publicPublishesWebOnly, [...miniStack(), ollama])).toEqual([
            "public-publishes-web-only: ollama publishes port 11434 on a public network",
        ]);
    });

    test("a container on a network the stack does not declare is reported as unchecked", async () => {
        const ollama = rec(T.container, "ollama", {
            ...containerInputs(),
            networksAdvanced: [{ name: "elsewhere" }],
            ports: [{ external: 11434, internal: 11434 }],
        });
        const stack = [...miniStack(), ollama];
        expect(await violations(publicPublishesWebOnly, stack)).toEqual([]);
        expect(await violations(couldNotCheckPolicy([publicPublishesWebOnly]), stack)).toEqual([
            "policy-could-not-check: public-publishes-web-only could not check ollama joins elsewhere, which this stack does not declare",
        ]);
    });

    test("a container the preview planned no values for (its provider unconfigured) is reported as unchecked", async () => {
        const planned = miniStack().map((r) => (r.type === T.container ? rec(T.container, r.name, {}) : r));
        expect(await violations(publicPublishesWebOnly, planned)).toEqual([]);
        expect(await violations(couldNotCheckPolicy([publicPublishesWebOnly]), planned)).toEqual([
            "policy-could-not-check: public-publishes-web-only could not check public-ai-workload-proxy: the preview planned no values for it (its provider is configured at up)",
        ]);
    });

    test("a private container may publish other ports", async () => {
        const net = rec(T.network, "net", {
            name: "public-ai-net",
            labels: [{ label: "ai-dualstack.environment", value: "private" }],
        });
        const ollama = rec(T.container, "ollama", {
            ...containerInputs(),
            ports: [{ external: 11434, internal: 11434 }],
        });
        expect(await violations(publicPublishesWebOnly, [net, ollama])).toEqual([]);
    });

    test("backups: every data-holding guest must be in a job, by its VMID", async () => {
        const found = await violations(backupsScheduled, miniStack());
        expect(found).toEqual(["backups-scheduled: no backup job covers public-ai (210), public-postgres (220)"]);
        const job = (vmids: string[]) => rec("proxmoxve:backup/job:Job", "job", { vmids });
        expect(await violations(backupsScheduled, [...miniStack(), job(["210", "220"])])).toEqual([]);
        // A job that leaves one out still reports that one.
        expect(await violations(backupsScheduled, [...miniStack(), job(["210"])])).toEqual([
            "backups-scheduled: no backup job covers public-postgres (220)",
        ]);
        // A job of other guests covers none of these.
        expect(await violations(backupsScheduled, [...miniStack(), job(["299"])])).toHaveLength(1);
    });
});
