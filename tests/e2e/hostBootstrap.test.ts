// The host bootstrap and the host check over real SSH, under the real engine: an OpenSSH server on
// 127.0.0.1 started by this suite, whose sessions run against a sandbox (a fake Proxmox root and
// stand-ins of the host's tools, never the machine's /etc). The first `up` writes the settings and
// ends cleanly with a reboot pending; a second changes nothing; after the "reboot" the host is
// ready; a wrong card id or a firewall that would lock this client out is refused before anything
// is written.

import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { bootstrapPlan, BootstrapPlan, renderCheckScript } from "../../components/host/bootstrap";
import { HostCheckError, HostStatus, checkHost } from "../../components/host/check";
import { ProxmoxHost } from "../../components/host/proxmoxHost";
import { NodeModel, resolveNode } from "../../config/resolve";
import { NodeConfig } from "../../config/schema";
import { EngineStack, failureOf } from "../../testing/engine";
import { engineToolchain } from "../../testing/engineToolchain";
import { findSshd, SshServer, startSshServer } from "../../testing/sshServer";
import { parsedConfig } from "../helpers/config";
import { makeSandbox, PciDevice, Sandbox } from "../helpers/sandbox";

const toolchain = engineToolchain();
const sshd = findSshd();
if (!sshd && process.env["CI"]) throw new Error("openssh-server is not installed; .ci/run installs it");
const TOKEN = "pulumi@pve!e2e=11111111-2222-3333-4444-555555555555";

const cfg = parsedConfig("private");
const nodeConfig = cfg.nodes["pve1"] as NodeConfig;

/** Every GPU function on the node, bound to the host's own driver as on a fresh install. */
function devices(driver: string): PciDevice[] {
    return bootstrapPlan(resolveNode("pve1", nodeConfig, "private"), "private", cfg.proxmox).gpuIdentities.map((c) => ({
        ...c,
        driver,
    }));
}

/** The node as the check and the bootstrap reach it: the test's sshd, its pinned host key. */
function nodeOn(server: SshServer, edit: (n: NodeConfig) => NodeConfig = (n) => n): NodeModel {
    const model = resolveNode("pve1", edit(nodeConfig), "private");
    return { ...model, ssh: { address: server.host, port: server.port, user: server.user, hostKey: server.hostKey } };
}

/**
 * The program: check the node over SSH, then the host component with the check's verdict. A refusal
 * is reported as the SDK reports a thrown RunError (an error diagnostic, no stack, the update
 * fails): thrown here, the SDK's process-wide handler for it would also fail the jest test itself.
 */
function program(server: SshServer, node: NodeModel, plan: BootstrapPlan) {
    return async () => {
        let status: HostStatus;
        try {
            status = await checkHost({
                node: "pve1",
                ssh: node.ssh,
                privateKey: server.privateKey,
                script: renderCheckScript(plan),
            });
        } catch (err) {
            if (!(err instanceof HostCheckError)) throw err;
            await pulumi.log.error(err.message);
            return {};
        }
        const host = new ProxmoxHost("private-pve1", {
            nodeName: "pve1",
            ssh: node.ssh,
            api: { endpoint: "https://127.0.0.1:8006/", insecure: false },
            apiToken: pulumi.secret(TOKEN),
            sshPrivateKey: pulumi.secret(server.privateKey),
            bootstrap: plan,
            status,
        });
        return { rebootRequired: host.rebootRequired, rebootReasons: host.rebootReasons };
    };
}

/** Every file under the sandbox's /etc, with its content: what a refused run must leave alone. */
function etcTree(sb: Sandbox): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(p);
            else out[path.relative(sb.root, p)] = fs.readFileSync(p, "utf8");
        }
    };
    walk(path.join(sb.root, "etc"));
    return out;
}

(toolchain && sshd ? describe : describe.skip)("the host bootstrap over real SSH, under the real engine", () => {
    let sb: Sandbox;
    let server: SshServer;
    const stacks: EngineStack[] = [];

    /** A stack whose program checks and bootstraps the sandbox through the server. */
    async function hostStack(name: string, plan: BootstrapPlan, node = nodeOn(server)): Promise<EngineStack> {
        const stack = await EngineStack.create({
            toolchain: toolchain!,
            stackName: name,
            program: program(server, node, plan),
        });
        stacks.push(stack);
        return stack;
    }

    /** The plan for the sandbox; the client (127.0.0.1) is a management source unless `guard` is off. */
    const planFor = (node: NodeModel, covered = true): BootstrapPlan => ({
        ...bootstrapPlan(node, "private", cfg.proxmox),
        ...(covered ? { managementSources: [...cfg.proxmox.managementSources, "127.0.0.0/8"] } : {}),
        sandboxRoot: sb.root,
    });

    beforeEach(async () => {
        sb = makeSandbox(devices("nouveau"));
        server = await startSshServer(sshd as string, {
            PATH: `${path.join(sb.root, "stand-in-bin")}:/usr/bin:/bin`,
            AIDS_ROOT: sb.root,
        });
    });

    afterEach(async () => {
        await Promise.all(stacks.splice(0).map((s) => s.dispose()));
        await server.stop();
    });

    test("first up: writes the settings and ends cleanly with a reboot pending; the next runs change nothing; after the reboot the host is ready", async () => {
        const node = nodeOn(server);
        const plan = planFor(node);
        const stack = await hostStack("bootstrap", plan);
        const first = await stack.up();
        expect(first.outputs["rebootRequired"]).toBe(true);
        expect(first.outputs["rebootReasons"]).toEqual(
            expect.arrayContaining([
                "kernel argument intel_iommu=on is not active",
                "0000:01:00.0 is bound to nouveau, not vfio-pci",
            ]),
        );
        expect(sb.read("etc/modprobe.d/zz-ai-dualstack-vfio.conf")).toContain(
            "options vfio-pci ids=10de:228e,10de:22e8,10de:2504,10de:2b85 disable_vga=1",
        );
        expect(sb.read("etc/default/grub.d/ai-dualstack.cfg")).toContain(plan.kernelArgs.join(" "));
        expect(sb.calls()).toContain("update-initramfs -u -k all");

        // Converged: a preview that expects no changes passes, and a second up changes nothing.
        await stack.preview({ expectNoChanges: true });
        const second = await stack.up();
        expect(Object.keys(second.changeSummary)).toEqual(["same"]);

        // The "reboot": the kernel arguments are live and vfio-pci owns the cards.
        sb.setCmdline(
            `BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet ${plan.kernelArgs.join(" ")}`,
        );
        for (const d of devices("vfio-pci")) sb.bind(d.address, "vfio-pci");
        const third = await stack.up();
        expect(third.outputs).toMatchObject({ rebootRequired: false, rebootReasons: [] });
        expect(Object.keys(third.changeSummary)).toEqual(["same"]);
    });

    test("a wrong vendor id is refused by the host check before the sandbox is touched", async () => {
        const node = nodeOn(server, (n) => ({
            ...n,
            gpus: {
                ...n.gpus,
                rtx3060: { ...(n.gpus["rtx3060"] as NodeConfig["gpus"][string]), vendorDeviceId: "8086:1533" },
            },
        }));
        const before = etcTree(sb);
        const stack = await hostStack("wrong-id", planFor(node), node);
        const err = await failureOf(stack.up());
        // Only the stack itself: no provider, no command was registered.
        expect(err.run.steps.map((s) => s.type)).toEqual(["pulumi:pulumi:Stack"]);
        expect(err.message).toContain(
            "0000:02:00.0: vendor is 10de on the host, but the config says 8086 (vendorDeviceId); did the cards move slots? Fix pciAddress or vendorDeviceId (`lspci -Dnnv` shows both; nothing was written)",
        );
        expect(etcTree(sb)).toEqual(before);
        expect(sb.calls().filter((c) => !c.startsWith("pvesh get"))).toEqual([]);
    });

    test("the firewall guard refuses a client outside the management networks, before anything is written", async () => {
        const node = nodeOn(server);
        const before = etcTree(sb);
        const stack = await hostStack("guard", planFor(node, false));
        const err = await failureOf(stack.up());
        expect(err.message).toContain(
            "turning the datacenter firewall on would lock out this machine (127.0.0.1): it is in neither the node's local network (unknown) nor the management IPSet; add its network to proxmox.managementSources",
        );
        expect(etcTree(sb)).toEqual(before);
    });
});
