// ProxmoxHost in mock mode: the provider is built from config alone, secrets stay secret, and the
// bootstrap runs over SSH with its script in the diff.

import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ProxmoxHost } from "../../../components/host/proxmoxHost";
import { bootstrapPlan } from "../../../components/host/bootstrap";
import { NodeModel, resolveNode } from "../../../config/resolve";
import { NodeConfig } from "../../../config/schema";
import { parsedConfig } from "../../helpers/config";
import { runOffline } from "../../../testing/mockRuntime";
import { one, record } from "../../helpers/pulumi";

const cfg = parsedConfig("private");
const node: NodeModel = resolveNode("pve1", cfg.nodes["pve1"] as NodeConfig, "private");
const TOKEN = "pulumi@pve!ai-dualstack=11111111-2222-3333-4444-555555555555";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZQ==\n-----END OPENSSH PRIVATE KEY-----\n";

function hostProgram(ssh: Partial<NodeModel["ssh"]> = {}) {
    return () =>
        new ProxmoxHost("private-pve1", {
            nodeName: "pve1",
            ssh: { ...node.ssh, ...ssh },
            api: { endpoint: cfg.proxmox.endpoint, insecure: cfg.proxmox.insecure },
            apiToken: pulumi.secret(TOKEN),
            sshPrivateKey: pulumi.secret(KEY),
            bootstrap: bootstrapPlan(node, "private", cfg.proxmox),
            status: { required: true, reasons: ["kernel argument iommu=pt is not active"] },
        });
}

async function build(ssh: Partial<NodeModel["ssh"]> = {}) {
    return record(hostProgram(ssh));
}

test("the provider comes from config: endpoint, TLS verified, token and SSH key as secrets", async () => {
    const resources = await build();
    const provider = one(resources, proxmoxve.Provider);
    expect(provider.inputs["endpoint"]).toBe("https://192.168.1.10:8006/");
    expect(provider.inputs["insecure"]).toBe("false");
    expect(provider.inputs["apiToken"]).toBe(TOKEN);
    expect(provider.secretInputs).toEqual(expect.arrayContaining(["apiToken", "ssh"]));
    const ssh = JSON.parse(provider.inputs["ssh"] as string) as Record<string, unknown>;
    expect(ssh).toMatchObject({
        username: "root",
        agent: false,
        nodes: [{ name: "pve1", address: "192.168.1.10", port: 22 }],
    });
    // No password auth and nothing the provider would otherwise fill in from PROXMOX_VE_* variables.
    expect(provider.inputs).not.toHaveProperty("password");
    expect(provider.inputs).not.toHaveProperty("username");
});

test("the bootstrap runs over SSH: the script on stdin, a remove script on delete", async () => {
    const resources = await build({ hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey" });
    const bootstrap = one(resources, command.remote.Command, "private-pve1-bootstrap");
    const host = one(resources, ProxmoxHost);
    expect(bootstrap.parent).toBe(host.urn);
    expect(bootstrap.secretInputs).toContain("connection");
    expect(bootstrap.inputs["connection"]).toMatchObject({
        host: "192.168.1.10",
        user: "root",
        port: 22,
        privateKey: KEY,
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey",
    });
    expect(bootstrap.inputs["create"]).toBe("bash -s");
    expect(bootstrap.inputs["update"]).toBe("bash -s");
    expect(bootstrap.inputs["stdin"]).toContain("AIDS_ENV='private'");
    expect(bootstrap.inputs["stdin"]).toContain("AIDS_VFIO_IDS='10de:228e,10de:22e8,10de:2504,10de:2b85'");
    const b64 = /^printf %s (\S+) \| base64 -d \| bash$/.exec(bootstrap.inputs["delete"] as string)?.[1] ?? "";
    expect(Buffer.from(b64, "base64").toString()).toContain("AIDS_MODE='remove'");
    // The bootstrap and the provider go through no default provider and read nothing implicit.
    expect(one(resources, proxmoxve.Provider).parent).toBe(host.urn);
    expect(
        resources
            .filter((r) => r.custom)
            .map((r) => r.name)
            .sort(),
    ).toEqual(["private-pve1-bootstrap", "private-pve1-provider"]);
});

test("no command runs on every up: the check's verdict is a plain value, and the bootstrap's script is fixed", async () => {
    const first = await build();
    const second = await build();
    const stdin = (rs: typeof first) => one(rs, command.remote.Command, "private-pve1-bootstrap").inputs["stdin"];
    expect(stdin(second)).toBe(stdin(first));
    expect(one(first, command.remote.Command).inputs).not.toHaveProperty("triggers");
    let host: ProxmoxHost | undefined;
    await record(() => (host = hostProgram()()));
    expect([host?.rebootRequired, host?.ready, host?.rebootReasons]).toEqual([
        true,
        false,
        ["kernel argument iommu=pt is not active"],
    ]);
});

test("an unpinned SSH host key is warned about, a pinned one is used", async () => {
    const unpinned = await runOffline({ stack: "test", config: {}, program: hostProgram() });
    expect(unpinned.warnings).toEqual([expect.stringContaining("nodes.pve1.sshHostKey is not set") as unknown]);
    const pinned = await runOffline({
        stack: "test",
        config: {},
        program: hostProgram({ hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey" }),
    });
    expect(pinned.warnings).toEqual([]);
});
