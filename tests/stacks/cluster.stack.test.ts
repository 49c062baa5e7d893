// Two nodes (tests/fixtures/cluster/two-nodes.yaml): the GPUs on different nodes, a mirror on each,
// private guests on both. Both stacks plan offline, every guest lands on its node through that
// node's provider, and each node gets its own host bootstrap, storage, bridge and downloads.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { EnvironmentName } from "../../config/schema";
import { PlannedStack } from "../../testing/planStack";
import { readStackConfig } from "../../testing/stackFiles";
import { ofType, one, runStack } from "../helpers/pulumi";

interface Move {
    node: string;
    storage: string;
}
interface Cluster {
    nodes: Record<string, unknown>;
    moves: Record<EnvironmentName, { vms?: Record<string, Move>; containers?: Record<string, Move> }>;
}

const cluster = parse(
    fs.readFileSync(path.join(__dirname, "..", "fixtures", "cluster", "two-nodes.yaml"), "utf8"),
) as Cluster;

/** The stack's committed guests with the fixture's moves applied. */
function guests(stack: EnvironmentName, key: "vms" | "containers"): Record<string, Record<string, unknown>> {
    const text = readStackConfig(stack).config[`ai-dualstack:${key}`] ?? "{}";
    const all = JSON.parse(text) as Record<string, Record<string, unknown>>;
    for (const [name, move] of Object.entries(cluster.moves[stack][key] ?? {})) {
        const guest = all[name];
        if (!guest) throw new Error(`the fixture moves ${key}.${name}, which the ${stack} stack lacks`);
        guest["node"] = move.node;
        guest["disk"] = { ...(guest["disk"] as object), storage: move.storage };
    }
    return all;
}

/** The stack's backup config, its datastores moved with the PBS container to that node's mirror. */
function backup(stack: EnvironmentName): Record<string, unknown> {
    const b = JSON.parse(readStackConfig(stack).config["ai-dualstack:backup"] ?? "{}") as {
        server?: { container: string; datastores: Record<string, { storage: string }> };
    };
    const move = b.server ? cluster.moves[stack].containers?.[b.server.container] : undefined;
    for (const ds of Object.values(b.server?.datastores ?? {})) if (move) ds.storage = move.storage;
    return b;
}

/** Where each guest of a stack should land: name → node. */
function expectedNodes(stack: EnvironmentName): Record<string, string> {
    return Object.fromEntries(
        [...Object.entries(guests(stack, "vms")), ...Object.entries(guests(stack, "containers"))].map(([n, g]) => [
            n,
            String(g["node"]),
        ]),
    );
}

const plans: Partial<Record<EnvironmentName, PlannedStack>> = {};

beforeAll(async () => {
    for (const stack of ["private", "public"] as const) {
        plans[stack] = await runStack(stack, {
            nodes: cluster.nodes,
            vms: guests(stack, "vms"),
            containers: guests(stack, "containers"),
            backup: backup(stack),
        });
    }
}, 60_000);

const planOf = (stack: EnvironmentName) => plans[stack] as PlannedStack;

test.each(["private", "public"] as const)(
    "%s: every guest lands on its node, through that node's provider",
    (stack) => {
        const plan = planOf(stack);
        const providers = new Map(ofType(plan.resources, proxmoxve.Provider).map((p) => [p.name, p.urn]));
        const expected = expectedNodes(stack);
        const placed = [
            ...ofType(plan.resources, proxmoxve.VmLegacy),
            ...ofType(plan.resources, proxmoxve.ContainerLegacy),
        ];
        expect(placed.map((r) => r.name).sort()).toEqual(Object.keys(expected).sort());
        for (const r of placed) {
            const node = expected[r.name] as string;
            expect([r.name, r.inputs["nodeName"]]).toEqual([r.name, node]);
            expect(r.provider?.startsWith(`${providers.get(`${stack}-${node}-provider`) ?? "?"}::`)).toBe(true);
        }
        expect(Object.values(expected)).toContain("pve2");
    },
);

test("private spans both nodes: a host, a mirror, a bridge and the downloads on each", () => {
    const plan = planOf("private");
    expect(
        ofType(plan.resources, proxmoxve.Provider)
            .map((p) => p.name)
            .sort(),
    ).toEqual(["private-pve1-provider", "private-pve2-provider"]);
    expect(
        ofType(plan.resources, proxmoxve.storage.Zfspool)
            .map((s) => `${String(s.inputs["resourceId"])}@${(s.inputs["nodes"] as string[]).join()}`)
            .sort(),
    ).toEqual(["tank-private-2@pve2", "tank-private@pve1"]);
    expect(
        ofType(plan.resources, proxmoxve.network.linux.Bridge)
            .map((b) => `${String(b.inputs["name"])}@${String(b.inputs["nodeName"])}:${String(b.inputs["ports"])}`)
            .sort(),
    ).toEqual(["vmbr1@pve1:enp5s0.10", "vmbr1@pve2:enp6s0.10"]);
    const downloads = ofType(plan.resources, proxmoxve.download.File).map((f) => String(f.inputs["nodeName"]));
    expect(new Set(downloads)).toEqual(new Set(["pve1", "pve2"]));
    // One security group for the environment, whichever node's provider holds it.
    expect(ofType(plan.resources, proxmoxve.cluster.firewall.security.GroupLegacy)).toHaveLength(1);
});

test("each GPU is mapped on its own node, and each node's bootstrap binds the cards on that node", () => {
    const priv = planOf("private");
    const pub = planOf("public");
    expect(one(priv.resources, proxmoxve.hardware.mapping.Pci).inputs["maps"]).toEqual([
        expect.objectContaining({ node: "pve1", path: "0000:01:00", id: "10de:2b85" }),
    ]);
    expect(one(pub.resources, proxmoxve.hardware.mapping.Pci).inputs["maps"]).toEqual([
        expect.objectContaining({ node: "pve2", path: "0000:0a:00", id: "10de:2504" }),
    ]);
    const stdin = (plan: PlannedStack, name: string) =>
        String(one(plan.resources, command.remote.Command, name).inputs["stdin"]);
    expect(stdin(priv, "private-pve1-bootstrap")).toContain("AIDS_VFIO_IDS='10de:22e8,10de:2b85'");
    // Every card on the node, whichever environment owns it: one reboot serves both stacks.
    expect(stdin(priv, "private-pve2-bootstrap")).toContain("AIDS_VFIO_IDS='10de:228e,10de:2504'");
    // Host-wide on pve2: the AMD IOMMU argument and the public hugepages, from either stack.
    expect(stdin(priv, "private-pve2-bootstrap")).toContain("AIDS_KERNEL_ARGS='amd_iommu=on iommu=pt");
    expect(stdin(pub, "public-pve2-bootstrap")).toContain("AIDS_VFIO_IDS='10de:228e,10de:2504'");
    // Public owns nothing on pve1 and runs nothing there: it never touches that node.
    expect(ofType(pub.resources, proxmoxve.Provider).map((p) => p.name)).toEqual(["public-pve2-provider"]);
});
