// ServiceLxc in mock mode: unprivileged, nesting only where the role needs it, on its
// environment's bridge and mirror.

import * as command from "@pulumi/command";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { roleEndpoints, ServiceLxc } from "../../../components/serviceLxc/serviceLxc";
import { resolveContainer } from "../../../config/resolve";
import { LxcConfig } from "../../../config/schema";
import { POLICIES } from "../../../stacks";
import { parsedConfig } from "../../helpers/config";
import { one, ofType, record } from "../../helpers/pulumi";
import { makeSandbox } from "../../helpers/sandbox";

const cfg = parsedConfig("private");

function build(name: string, overrides: Partial<LxcConfig> = {}) {
    const ct = resolveContainer(
        name,
        { ...(cfg.containers[name] as LxcConfig), ...overrides },
        POLICIES.private,
        cfg.environments.private.network,
    );
    return record(
        () =>
            new ServiceLxc(name, {
                environment: "private",
                container: ct,
                storageId: "tank-private",
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

test("PostgreSQL: unprivileged, no nesting, sized by its role, protected", async () => {
    const ct = one(await build("private-postgres"), proxmoxve.ContainerLegacy);
    expect(ct.inputs).toMatchObject({
        nodeName: "pve1",
        vmId: 120,
        unprivileged: true,
        features: { nesting: false },
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
    expect(ct.protect).toBe(true);
    expect((ct.inputs["initialization"] as Record<string, unknown>)["ipConfigs"]).toEqual([
        { ipv4: { address: "10.10.10.20/24", gateway: "10.10.10.1" } },
    ]);
});

test("CI/CD runs containers inside, so it alone gets nesting (and no root@pam-only flag)", async () => {
    const ct = one(await build("private-cicd"), proxmoxve.ContainerLegacy);
    expect(ct.inputs["features"]).toEqual({ nesting: true });
    expect(ct.protect).toBe(false);
    expect(one(await build("private-redis"), proxmoxve.ContainerLegacy).inputs["features"]).toEqual({ nesting: false });
    // An explicit override is honoured.
    expect(one(await build("private-redis", { nesting: true }), proxmoxve.ContainerLegacy).inputs["features"]).toEqual({
        nesting: true,
    });
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
    const ct = one(resources, proxmoxve.ContainerLegacy);
    expect(ct.inputs["started"]).toBe(false);
    const start = one(resources, command.remote.Command);
    expect(start.dependencies).toEqual(
        expect.arrayContaining([
            ct.urn,
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
