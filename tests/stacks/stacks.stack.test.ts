// Both stacks planned under strict mocks: which GPU goes where, isolation of the environments,
// protection of the GPU VMs, and that no Proxmox object is managed by both stacks.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { containsNetwork, parseCidr } from "../../lib/ipv4";
import { RecordedResource } from "../../testing/mockRuntime";
import { ofType, one, runStack } from "../helpers/pulumi";

let priv: Awaited<ReturnType<typeof runStack>>;
let pub: Awaited<ReturnType<typeof runStack>>;

beforeAll(async () => {
    priv = await runStack("private");
    pub = await runStack("public");
});

const guests = (resources: readonly RecordedResource[]) => [
    ...ofType(resources, proxmoxve.VmLegacy),
    ...ofType(resources, proxmoxve.ContainerLegacy),
];
const bridgesOf = (r: RecordedResource): unknown[] =>
    [...((r.inputs["networkDevices"] as unknown[]) ?? []), ...((r.inputs["networkInterfaces"] as unknown[]) ?? [])].map(
        (nic) => (nic as { bridge?: unknown }).bridge,
    );

test("the RTX 5090 goes to the private VM and the RTX 3060 to the public one, each by its own mapping", () => {
    const privMap = one(priv.resources, proxmoxve.hardware.mapping.Pci);
    const pubMap = one(pub.resources, proxmoxve.hardware.mapping.Pci);
    expect(privMap.inputs).toMatchObject({
        name: "private-rtx5090",
        maps: [{ node: "pve1", path: "0000:01:00", id: "10de:2b85" }],
    });
    expect(pubMap.inputs).toMatchObject({
        name: "public-rtx3060",
        maps: [{ node: "pve1", path: "0000:02:00", id: "10de:2504" }],
    });
    expect(one(priv.resources, proxmoxve.VmLegacy).inputs["hostpcis"]).toEqual([
        expect.objectContaining({ mapping: "private-rtx5090" }),
    ]);
    expect(one(pub.resources, proxmoxve.VmLegacy).inputs["hostpcis"]).toEqual([
        expect.objectContaining({ mapping: "public-rtx3060" }),
    ]);
    expect(priv.outputs?.vms["private-ai"]?.gpu).toMatchObject({
        name: "rtx5090",
        model: "NVIDIA GeForce RTX 5090",
        vramGiB: 32,
    });
    expect(pub.outputs?.vms["public-ai"]?.gpu).toMatchObject({ name: "rtx3060", vramGiB: 12, memoryBandwidthGBs: 360 });
});

test("every guest sits on its own environment's bridge and mirror", () => {
    for (const r of guests(priv.resources)) {
        expect(bridgesOf(r)).toEqual(["vmbr1"]);
        expect(JSON.stringify(r.inputs)).not.toMatch(/tank-public|vmbr2/);
    }
    for (const r of guests(pub.resources)) {
        expect(bridgesOf(r)).toEqual(["vmbr2"]);
        expect(JSON.stringify(r.inputs)).not.toMatch(/tank-private|vmbr1/);
    }
    expect(guests(priv.resources)).toHaveLength(7);
    expect(guests(pub.resources)).toHaveLength(3);
});

test("inbound is denied on every guest; each opens named ports to named sources, only the public proxy and the VPN to anyone", () => {
    for (const run of [priv, pub]) {
        const options = ofType(run.resources, proxmoxve.firewall.OptionsLegacy);
        expect(options).toHaveLength(guests(run.resources).length);
        options.forEach((o) => expect(o.inputs).toMatchObject({ enabled: true, inputPolicy: "DROP" }));
    }
    const open = [priv, pub].flatMap((run) =>
        ofType(run.resources, proxmoxve.firewall.RulesLegacy).flatMap((r) =>
            (r.inputs["rules"] as Record<string, unknown>[])
                .filter((rule) => rule["securityGroup"] === undefined && rule["type"] === "in")
                .map((rule) => ({ owner: r.name, rule })),
        ),
    );
    expect(open.length).toBeGreaterThanOrEqual(8);
    // No guest rule opens every port.
    expect(open.filter((o) => typeof o.rule["dport"] !== "string")).toEqual([]);
    // Anyone reaches the public proxy's 80 and 443 and the VPN's WireGuard port (which answers
    // only packets from its configured peers' keys), and nothing else.
    expect(open.filter((o) => o.rule["source"] === undefined)).toEqual([
        {
            owner: "private-security-firewall-rules",
            rule: expect.objectContaining({ action: "ACCEPT", proto: "udp", dport: "51820" }) as unknown,
        },
        {
            owner: "public-ai-firewall-rules",
            rule: expect.objectContaining({ action: "ACCEPT", proto: "tcp", dport: "80,443" }) as unknown,
        },
    ]);
    // The public proxy's trusted entrypoint (Ollama, the exporters): the LAN and the monitoring host only.
    expect(
        open
            .filter((o) => o.owner === "public-ai-firewall-rules" && o.rule["dport"] === "8480")
            .map((o) => o.rule["source"]),
    ).toEqual(["10.10.10.24/32", "192.168.1.0/24"]);
    // Private guests answer the LAN, the VPN and each other; never the DMZ.
    const privateSources = ["192.168.1.0/24", "10.8.0.0/24", "10.10.10.0/24"].map(parseCidr);
    for (const o of open.filter((x) => x.owner.startsWith("private-") && x.rule["source"] !== undefined)) {
        const source = parseCidr(String(o.rule["source"]));
        expect(privateSources.some((net) => containsNetwork(net, source))).toBe(true);
    }
});

test("GPU VMs are protected; data-holding containers too", () => {
    expect(ofType(priv.resources, proxmoxve.VmLegacy).every((r) => r.protect)).toBe(true);
    expect(ofType(pub.resources, proxmoxve.VmLegacy).every((r) => r.protect)).toBe(true);
    expect(one(priv.resources, proxmoxve.ContainerLegacy, "private-postgres").protect).toBe(true);
    expect(one(priv.resources, proxmoxve.ContainerLegacy, "private-redis").protect).toBe(false);
});

test("each GPU VM, its snippet and the downloads wait for the host bootstrap; no command runs on every up", () => {
    for (const [env, run] of [
        ["private", priv],
        ["public", pub],
    ] as const) {
        const bootstrap = one(run.resources, command.remote.Command, `${env}-pve1-bootstrap`);
        expect(one(run.resources, proxmoxve.VmLegacy).dependencies).toContain(bootstrap.urn);
        expect(one(run.resources, proxmoxve.FileLegacy).dependencies).toContain(bootstrap.urn);
        for (const file of ofType(run.resources, proxmoxve.download.File))
            expect(file.dependencies).toContain(bootstrap.urn);
        // The host check runs in checkHosts, before the program registers anything: no resource, no trigger.
        expect(ofType(run.resources, command.remote.Command).filter((c) => c.inputs["triggers"] !== undefined)).toEqual(
            [],
        );
    }
});

test("every Proxmox resource goes through the stack's explicit provider", () => {
    for (const run of [priv, pub]) {
        const provider = one(run.resources, proxmoxve.Provider);
        const proxmox = run.resources.filter((r) => r.custom && r.type.startsWith("proxmoxve:"));
        expect(proxmox.length).toBeGreaterThan(10);
        for (const r of proxmox) expect(r.provider?.startsWith(`${provider.urn}::`)).toBe(true);
    }
});

/** The Proxmox object identities a plan manages. */
function identities(resources: readonly RecordedResource[]) {
    const names = (cls: Parameters<typeof ofType>[1], field: string) =>
        ofType(resources, cls).map((r) => String(r.inputs[field]));
    return {
        vmid: [...names(proxmoxve.VmLegacy, "vmId"), ...names(proxmoxve.ContainerLegacy, "vmId")],
        bridge: [...names(proxmoxve.network.linux.Bridge, "name"), ...names(proxmoxve.network.linux.Vlan, "name")],
        storage: [...names(proxmoxve.storage.Zfspool, "resourceId"), ...names(proxmoxve.node.disk.Zfs, "name")],
        mapping: names(proxmoxve.hardware.mapping.Pci, "name"),
        file: [
            ...names(proxmoxve.download.File, "fileName"),
            ...ofType(resources, proxmoxve.FileLegacy).map(
                (r) => (r.inputs["sourceRaw"] as { fileName: string }).fileName,
            ),
        ],
        securityGroup: names(proxmoxve.cluster.firewall.security.GroupLegacy, "name"),
    };
}

test("the two plans share no VMID, bridge, storage id, mapping name, file or security group", () => {
    const a = identities(priv.resources);
    const b = identities(pub.resources);
    for (const kind of Object.keys(a) as (keyof typeof a)[]) {
        expect(a[kind].length).toBeGreaterThan(0);
        expect(a[kind].filter((x) => b[kind].includes(x))).toEqual([]);
    }
});

test("the outputs carry addresses, GPUs and service endpoints", () => {
    expect(priv.outputs?.vms["private-ai"]).toMatchObject({ vmid: 110, node: "pve1", address: "10.10.10.10" });
    expect(priv.outputs?.containers["private-postgres"]?.endpoints).toEqual(["postgresql://10.10.10.20:5432"]);
    expect(pub.outputs?.containers["public-redis"]).toMatchObject({ role: "redis", address: "10.20.20.21" });
    expect(pub.outputs?.exposure).toMatch(/internet-facing/);
});

test("the OS mirror is never made a pool: public registers a dataset on rpool, private creates its pool on the 2 TB pair", () => {
    expect(ofType(pub.resources, proxmoxve.node.disk.Zfs)).toEqual([]);
    expect(one(pub.resources, proxmoxve.storage.Zfspool).inputs).toMatchObject({
        resourceId: "tank-public",
        zfsPool: "rpool/aids-public",
    });
    const pool = one(priv.resources, proxmoxve.node.disk.Zfs);
    expect(pool.inputs["name"]).toBe("tankpriv");
    expect(pool.inputs["devices"]).toEqual([
        "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0X000001",
        "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0X000002",
    ]);
});
