// The resolve step: references followed once, so that nothing downstream looks them up again.

import { lxcTemplate, resolveLxc, resolveNetwork, resolveStack } from "../../config/resolve";
import { LxcConfig } from "../../config/schema";
import { GATE_DEFAULTS } from "../../config/schema";
import { POLICIES } from "../../stacks";
import { parsedStack } from "../helpers/config";

const { config: cfg, peers } = parsedStack("private");
const model = resolveStack(cfg, "private", POLICIES.private, peers);
const vm = model.vms.find((v) => v.name === "private-ai");

test("a VM holds its GPU as an object, its CPUs as a list, its address as ip and prefix", () => {
    expect(vm?.gpu).toMatchObject({
        name: "rtx5090",
        node: "pve1",
        model: "NVIDIA GeForce RTX 5090",
        pciAddress: "0000:01:00.0",
        memoryBandwidthGBs: 1792,
    });
    expect(vm?.cpus).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(vm?.network).toEqual({ bridge: "vmbr1", address: { ip: "10.10.10.10", prefix: 24 } });
    expect(vm?.hugepages).toBe("1G");
    expect(resolveNetwork({ bridge: "vmbr1", address: "dhcp" })).toEqual({ bridge: "vmbr1" });
});

test("the gate's settings are complete: the config's values, the schema's defaults and the fixed ones", () => {
    expect(vm?.gate).toEqual({
        prompt: GATE_DEFAULTS.prompt,
        numPredict: 128,
        runs: 3,
        seed: GATE_DEFAULTS.seed,
        requireGpu: true,
        timeoutSeconds: 300,
        stallSeconds: 120,
        attempts: GATE_DEFAULTS.attempts,
        backoffMs: GATE_DEFAULTS.backoffMs,
    });
    const off = resolveStack(
        {
            ...cfg,
            vms: {
                "private-ai": {
                    ...cfg.vms["private-ai"]!,
                    throughputGate: { ...cfg.vms["private-ai"]!.throughputGate, enabled: false },
                },
            },
        },
        "private",
        POLICIES.private,
        peers,
    );
    expect(off.vms[0]?.gate).toBeUndefined();
});

test("a container's sizing is its own settings over its role's defaults, and its description the role's purpose", () => {
    const pg = model.containers.find((c) => c.name === "private-postgres");
    expect(pg?.sizing).toEqual({ cores: 2, memoryGiB: 4, diskGiB: 32, nesting: true, protect: true });
    expect(pg?.description).toBe("ai-dualstack private: Relational database (PostgreSQL)");
    const bigger = resolveLxc(
        "private-postgres",
        { ...(cfg.containers["private-postgres"] as LxcConfig), cores: 6, protect: false },
        POLICIES.private,
        cfg.environments.private.network,
    );
    expect(bigger.sizing).toMatchObject({ cores: 6, protect: false, memoryGiB: 4 });
});

test("a service's files are read once, here, and the nodes are those the environment touches", () => {
    const ingest = vm?.services["rag-ingest"];
    expect(Object.keys(ingest?.fileContents ?? {})).toEqual(["/app/rag-ingest.py"]);
    expect(ingest?.fileContents["/app/rag-ingest.py"]).toContain("def chunk(");
    expect(model.nodes.map((n) => n.name)).toEqual(["pve1"]);
    const node = model.nodes[0];
    // The node's own hardware for this environment; every GPU for the host-wide blacklist.
    expect(node?.gpus.map((g) => g.name)).toEqual(["rtx5090"]);
    expect(node?.allGpus.map((g) => g.name)).toEqual(["rtx5090", "rtx3060"]);
    expect(node?.mirrors.map((m) => m.storageId)).toEqual(["tank-private"]);
    expect(node?.bridges.map((b) => b.name)).toEqual(["vmbr1"]);
    expect(node?.hugepagesGiB).toBe(64);
});

// Proxmox's template index lists these for Debian's standard containers: pve-manager ships it as
// aplinfo/aplinfo.dat, fetched from aplinfo-pve-9.dat on master (debian-13-standard 13.6-1) and from
// aplinfo-pve-8.dat on stable-8 (debian-12-standard 12.12-1, the same entry in both).
test.each([
    [
        9,
        "https://download.proxmox.com/images/system/debian-13-standard_13.6-1_amd64.tar.zst",
        "4c0c27ca6ceab5ef0b84db57825a00f26157ef1854bafe97297813e1cbe8ecb8cc9c453cab6b3b0efe1ba193a50c47ece1e41d950e411b8730b835b71e9e754b",
    ],
    [
        8,
        "https://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst",
        "50c85eaaece677a3ebe01cc909b83872e9da2a22c29ae652838afce71e83222fdf40f6accecd7d52b180e912fc1f85ecdf7b3fc4d3027da4d865e509a9e76597",
    ],
] as const)(
    "proxmox.majorVersion %i: a container left on the default gets that major's Debian template, verified",
    (major, url, sha512) => {
        const m = resolveStack(
            { ...cfg, proxmox: { ...cfg.proxmox, majorVersion: major } },
            "private",
            POLICIES.private,
            peers,
        );
        expect(m.containers.map((c) => c.template)).toEqual(m.containers.map(() => ({ url, sha512 })));
        expect(m.containers.length).toBeGreaterThan(0);
    },
);

test("a container's own template wins over the major's default", () => {
    const own = { url: "https://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst" };
    const ct = { ...(cfg.containers["private-postgres"] as LxcConfig), template: own };
    expect(lxcTemplate(ct.template, 9)).toEqual(own);
    expect(lxcTemplate(undefined, 8).url).toContain("debian-12-standard");
});
