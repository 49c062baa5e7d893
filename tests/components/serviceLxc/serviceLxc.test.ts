// ServiceLxc in mock mode: unprivileged, with nesting (every role's services need mount namespaces, as the
// booted-system suites show), on its environment's bridge and mirror.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { renderStartScript, roleEndpoints, ServiceLxc } from "../../../components/serviceLxc/serviceLxc";
import { formatCpuset } from "../../../lib/cpuset";
import { resolveLxc } from "../../../config/resolve";
import { LxcConfig } from "../../../config/schema";
import { POLICIES } from "../../../stacks";
import { parsedConfig, stackModel } from "../../helpers/config";
import { one, ofType, record } from "../../helpers/pulumi";
import { makeSandbox } from "../../helpers/sandbox";

const cfg = parsedConfig("private");

function build(name: string, overrides: Partial<LxcConfig> = {}) {
    const lxc = resolveLxc(
        name,
        { ...(cfg.containers[name] as LxcConfig), ...overrides },
        POLICIES.private,
        cfg.environments.private.network,
    );
    return record(
        () =>
            new ServiceLxc(name, {
                environment: "private",
                lxc: lxc,
                storageId: "tank-private",
                poolId: "private",
                templateFileId: "local:vztmpl/private-debian-12-standard_12.12-1_amd64.tar.zst",
                bridge: "vmbr1",
                gateway: "10.10.10.1",
                dns: ["10.10.10.1"],
                securityGroup: "aids-private",
                firewallPolicy: POLICIES.private,
                hostConnection: { host: "192.168.1.10", user: "root", privateKey: "key" },
            }),
    );
}

test("PostgreSQL: unprivileged, nesting on, sized by its role, protected", async () => {
    const lxc = one(await build("private-postgres"), proxmoxve.ContainerLegacy);
    expect(lxc.inputs).toMatchObject({
        nodeName: "pve1",
        vmId: 120,
        unprivileged: true,
        features: { nesting: true },
        cpu: { cores: 2 },
        memory: { dedicated: 4096 },
        disk: { datastoreId: "tank-private", size: 32 },
        operatingSystem: {
            templateFileId: "local:vztmpl/private-debian-12-standard_12.12-1_amd64.tar.zst",
            type: "debian",
        },
        networkInterfaces: [{ name: "eth0", bridge: "vmbr1", firewall: true }],
        tags: ["ai-dualstack", "lxc", "postgresql", "private"],
    });
    expect(lxc.protect).toBe(true);
    expect((lxc.inputs["initialization"] as Record<string, unknown>)["ipConfigs"]).toEqual([
        { ipv4: { address: "10.10.10.20/24", gateway: "10.10.10.1" } },
    ]);
});

test("nesting is the only feature flag (no root@pam-only one), and a container's own setting wins", async () => {
    const lxc = one(await build("private-cicd"), proxmoxve.ContainerLegacy);
    expect(lxc.inputs["features"]).toEqual({ nesting: true });
    expect(lxc.protect).toBe(false);
    expect(one(await build("private-redis"), proxmoxve.ContainerLegacy).inputs["features"]).toEqual({ nesting: true });
    // An explicit override is honoured.
    expect(one(await build("private-redis", { nesting: false }), proxmoxve.ContainerLegacy).inputs["features"]).toEqual(
        {
            nesting: false,
        },
    );
});

test("endpoints follow the role and the address", () => {
    expect(roleEndpoints("postgresql", "10.10.10.20")).toEqual(["postgresql://10.10.10.20:5432"]);
    expect(roleEndpoints("monitoring", "10.10.10.24")).toEqual(["http://10.10.10.24:9090", "http://10.10.10.24:3000"]);
    expect(roleEndpoints("redis", undefined)).toEqual([]);
});

test("its firewall follows the policy; a container's configured address needs no ipfilter set", async () => {
    const resources = await build("private-redis");
    expect(one(resources, proxmoxve.firewall.OptionsLegacy).inputs).toMatchObject({
        containerId: 121,
        inputPolicy: "DROP",
        outputPolicy: POLICIES.private.outputPolicy,
        ipfilter: true,
    });
    expect(ofType(resources, proxmoxve.firewall.IpsetLegacy)).toHaveLength(0);
});

test("a container starts only once its firewall is in place, by pct over root SSH", async () => {
    const resources = await build("private-postgres");
    const lxc = one(resources, proxmoxve.ContainerLegacy);
    expect(lxc.inputs["started"]).toBe(false);
    const start = one(resources, command.remote.Command);
    expect(start.dependencies).toEqual(
        expect.arrayContaining([
            lxc.urn,
            one(resources, proxmoxve.firewall.OptionsLegacy).urn,
            one(resources, proxmoxve.firewall.RulesLegacy).urn,
        ]),
    );
    expect(start.inputs["connection"]).toMatchObject({ host: "192.168.1.10", user: "root" });
    const run = (status: string) => {
        const sb = makeSandbox([]);
        sb.write("pct-status", `status: ${status}\n`);
        const result = sb.run(start.inputs["stdin"] as string);
        return { status: result.status, calls: sb.calls() };
    };
    expect(run("stopped")).toEqual({ status: 0, calls: ["pct status 120", "pct start 120"] });
    expect(run("running")).toEqual({ status: 0, calls: ["pct status 120"] });
});

describe("pinning to the node's shared CPUs (real bash, stand-in pct)", () => {
    const CONF =
        "arch: amd64\ncores: 2\nhostname: private-postgres\nlxc.cgroup2.cpuset.cpus: 2-3\n\n[before-upgrade]\ncores: 2\n";
    const script = renderStartScript(120, [8, 9, 10, 11, 12, 13, 14, 15]);

    test("writes the key in the main section, never a snapshot's, then starts the container", () => {
        const sb = makeSandbox([]);
        sb.write("etc/pve/lxc/120.conf", CONF);
        const run = sb.run(script);
        expect(run.status).toBe(0);
        expect(sb.read("etc/pve/lxc/120.conf")).toBe(
            "arch: amd64\ncores: 2\nhostname: private-postgres\n\nlxc.cgroup2.cpuset.cpus: 8-15\n[before-upgrade]\ncores: 2\n",
        );
        expect(run.stdout).toContain("ai-dualstack: CT 120 pinned to 8-15");
        expect(sb.calls()).toEqual(["pct status 120", "pct status 120", "pct start 120"]);
    });

    test("a second run changes nothing; a running container gets the set live", () => {
        const sb = makeSandbox([]);
        sb.write("etc/pve/lxc/120.conf", "arch: amd64\nlxc.cgroup2.cpuset.cpus: 8-15\n");
        sb.write("pct-status", "status: running\n");
        const again = sb.run(script);
        expect(again.stdout).not.toContain("pinned");
        expect(sb.calls()).toEqual(["pct status 120"]);
        sb.write("etc/pve/lxc/120.conf", "arch: amd64\n");
        sb.write("sys/fs/cgroup/lxc/120/cpuset.cpus", "0-23\n");
        sb.run(script);
        expect(sb.read("sys/fs/cgroup/lxc/120/cpuset.cpus")).toBe("8-15\n");
        expect(sb.read("etc/pve/lxc/120.conf")).toBe("arch: amd64\nlxc.cgroup2.cpuset.cpus: 8-15\n");
    });

    test("the committed containers run on the CPUs no allocation claims, beside the host", () => {
        expect(stackModel("private").containers.map((c) => formatCpuset(c.cpus))).toEqual(Array(6).fill("8-15"));
    });
});
