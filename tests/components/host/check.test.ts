// The host check with a stand-in `ssh` (the e2e suite runs it against a real OpenSSH server): the
// options it logs in with, the verdict it reads, and the message for a refusal and for no login.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bootstrapPlan, renderCheckScript } from "../../../components/host/bootstrap";
import { HostCheckError, checkHost, CheckTarget } from "../../../components/host/check";
import { parseStackConfig } from "../../../config/load";
import { NodeMemoryFit } from "../../../config/memory";
import { NodeModel } from "../../../config/resolve";
import { POLICIES } from "../../../stacks";
import { parsedConfig, rawConfig, stackModel } from "../../helpers/config";
import { makeSandbox } from "../../helpers/sandbox";

/** An `ssh` that records its arguments and stdin, then prints `stdout`/`stderr` and exits `code`. */
function fakeSsh(stdout: string, stderr = "", code = 0): { bin: string; args: () => string[]; stdin: () => string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-fake-ssh-"));
    const bin = path.join(dir, "ssh");
    fs.writeFileSync(
        bin,
        `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > "${dir}/args"\ncat > "${dir}/stdin"\nprintf '%s' '${stdout}'\nprintf '%s' '${stderr}' >&2\nexit ${code}\n`,
        { mode: 0o755 },
    );
    return {
        bin,
        args: () => fs.readFileSync(path.join(dir, "args"), "utf8").trim().split("\n"),
        stdin: () => fs.readFileSync(path.join(dir, "stdin"), "utf8"),
    };
}

const target: CheckTarget = {
    node: "pve1",
    ssh: { address: "192.168.1.10", port: 2222, user: "root", hostKey: "ssh-ed25519 AAAAHostKey" },
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZQ==\n-----END OPENSSH PRIVATE KEY-----",
    script: "echo check\n",
};

test("logs in without prompts, with the pinned host key, and sends the check on stdin", async () => {
    const ssh = fakeSsh("ai-dualstack[private]: reboot-required=yes (kernel argument iommu=pt is not active)\n");
    const status = await checkHost(target, ssh.bin);
    expect(status).toEqual({ required: true, reasons: ["kernel argument iommu=pt is not active"] });
    const args = ssh.args();
    expect(args).toEqual(expect.arrayContaining(["BatchMode=yes", "StrictHostKeyChecking=yes", "IdentitiesOnly=yes"]));
    expect(args.slice(-2)).toEqual(["root@192.168.1.10", "bash -s"]);
    expect(args[args.indexOf("-p") + 1]).toBe("2222");
    expect(ssh.stdin()).toBe("echo check\n");
});

test("a refusal carries the check's own message; no login says what to check; no verdict is an error", async () => {
    const refused = checkHost(
        target,
        fakeSsh("", "ai-dualstack[private]: ERROR: no PCI device at 0000:01:00.0", 1).bin,
    );
    await expect(refused).rejects.toThrow(
        'the host check of node "pve1" stopped the run, and nothing was changed:\nai-dualstack[private]: ERROR: no PCI device at 0000:01:00.0',
    );
    const unreachable = checkHost(
        target,
        fakeSsh("", "ssh: connect to host 192.168.1.10 port 2222: No route to host", 255).bin,
    );
    await expect(unreachable).rejects.toThrow(
        "cannot log in to root@192.168.1.10:2222 over SSH (ssh: connect to host 192.168.1.10 port 2222: No route to host); check nodes.pve1.address, sshPort and sshUser",
    );
    await expect(checkHost(target, fakeSsh("hello\n").bin)).rejects.toBeInstanceOf(HostCheckError);
});

// Memory (issue 19, item 8): the check reads the node's MemTotal (/proc/meminfo) and walks this
// environment's guests again, in the config rules' order and with their words (config/memory.ts),
// against what that MemTotal leaves: less the ZFS ARC maximum, hostReservedGiB and the other
// environment's allocation. The committed node says 125 GiB (MemTotal of 128 GB), ARC 8, reserve 4;
// private 80 GiB (48 of hugepages), public 32 (16). Private's guests beside the hugepages: the VM's
// 1 GiB QEMU overhead, then postgres 4, redis 2, security 1, cicd 8, monitoring 4, backup 2.
describe("the memory the node really has", () => {
    const priv = stackModel("private").nodes[0];
    const pub = stackModel("public").nodes[0];
    const verdict = (kib: number) =>
        `ai-dualstack[private]: memtotal-kib=${kib}\nai-dualstack[private]: reboot-required=no\n`;
    const withMemory = (memory: NodeMemoryFit | undefined): CheckTarget => ({
        ...target,
        ...(memory ? { memory } : {}),
    });

    test("the resolved node carries the walk's inputs, guests in config order", () => {
        expect(priv?.memoryFit).toEqual({
            node: "pve1",
            environment: "private",
            totalGiB: 125,
            arcMaxGiB: 8,
            hostReservedGiB: 4,
            share: { memoryGiB: 80, hugepagesGiB: 48, vmOverheadGiB: 1 },
            others: [{ environment: "public", memoryGiB: 32 }],
            guests: [
                { kind: "vms", name: "private-ai", memoryGiB: 48, hugepages: true },
                ...[
                    ["private-postgres", 4],
                    ["private-redis", 2],
                    ["private-security", 1],
                    ["private-cicd", 8],
                    ["private-monitoring", 4],
                    ["private-backup", 2],
                ].map(([name, memoryGiB]) => ({ kind: "containers", name, memoryGiB, hugepages: false })),
            ],
        });
    });

    test("110 GiB: the first guest that does not fit is named, with the measured figures", async () => {
        // 110 - 8 - 4 - 32 = 66 for private: 18 beside 48 of hugepages; the guests before
        // private-monitoring take 1 + 4 + 2 + 1 + 8 = 16, and its 4 do not fit.
        const kib = 110 * 1048576;
        await expect(checkHost(withMemory(priv?.memoryFit), fakeSsh(verdict(kib)).bin)).rejects.toThrow(
            `the host check of node "pve1" stopped the run, and nothing was changed:\nai-dualstack[private]: ERROR: containers.private-monitoring.memoryGiB: 4 GiB does not fit: nodes.pve1.allocations.private.memoryGiB (80), cut to 66 GiB by the node's measured MemTotal of 110 GiB (${kib} kB) less the ZFS ARC maximum (8 GiB), hostReservedGiB (4 GiB) and the public allocation (32 GiB), leaves 18 GiB beside 48 GiB of hugepages, and the guests before it take 16 (each VM's QEMU overhead included, 1 GiB: nodes.pve1.memory.vmOverheadGiB); set nodes.pve1.memory.totalGiB to MemTotal (110) and shrink a guest or an allocation`,
        );
    });

    test("the config rule names the same guest with the same figures for the same share", () => {
        // The walk is one function: the config with private's allocation at the 66 GiB the node
        // left above is refused at the same guest, in the rule's words.
        const issues = parseStackConfig(
            rawConfig("private", (v) => {
                const nodes = v["nodes"] as { pve1: { allocations: { private: { memoryGiB: number } } } };
                nodes.pve1.allocations.private.memoryGiB = 66;
            }),
            POLICIES,
        );
        expect(issues.ok ? [] : issues.issues).toEqual([
            {
                path: "containers.private-monitoring.memoryGiB",
                message:
                    "4 GiB does not fit: nodes.pve1.allocations.private.memoryGiB (66) leaves 18 GiB beside 48 GiB of hugepages, and the guests before it take 16; shrink a guest or raise memoryGiB",
            },
        ]);
    });

    test("a VM's QEMU overhead is what does not fit when nothing is left beside the hugepages", async () => {
        // Public: 108 - 8 - 4 - 80 = 16, all of it hugepages; the VM's 1 GiB of overhead comes first.
        const kib = 108 * 1048576;
        const ssh = fakeSsh(verdict(kib).replaceAll("[private]", "[public]"));
        await expect(checkHost(withMemory(pub?.memoryFit), ssh.bin)).rejects.toThrow(
            `ai-dualstack[public]: ERROR: vms.public-ai.memoryGiB: its QEMU overhead (1 GiB, nodes.pve1.memory.vmOverheadGiB) does not fit: nodes.pve1.allocations.public.memoryGiB (32), cut to 16 GiB by the node's measured MemTotal of 108 GiB (${kib} kB) less the ZFS ARC maximum (8 GiB), hostReservedGiB (4 GiB) and the private allocation (80 GiB), leaves 0 GiB beside 16 GiB of hugepages, and the guests before it take 0`,
        );
    });

    test("less than totalGiB but every guest fits: totalGiB is wrong, and says so", async () => {
        // 124 GiB still leaves private its 80 (124 - 12 - 32), so no guest is short.
        const kib = 130023424;
        await expect(checkHost(withMemory(priv?.memoryFit), fakeSsh(verdict(kib)).bin)).rejects.toThrow(
            "ai-dualstack[private]: ERROR: the node's MemTotal is 124 GiB (130023424 kB), but nodes.pve1.memory.totalGiB says 125; set totalGiB to MemTotal (`grep MemTotal /proc/meminfo`, kB / 1048576) and size the allocations to it",
        );
    });

    test.each([
        ["the figure itself", 125 * 1048576],
        ["half a GiB less (firmware reservations move between kernels)", 125 * 1048576 - 524288],
        ["more", 128 * 1048576],
    ])("%s passes", async (_what, kib) => {
        await expect(checkHost(withMemory(priv?.memoryFit), fakeSsh(verdict(kib)).bin)).resolves.toEqual({
            required: false,
            reasons: [],
        });
    });

    test("the real check script on a sandbox node: its MemTotal reaches the judgement", async () => {
        const plan = bootstrapPlan(priv as NodeModel, "private", parsedConfig("private").proxmox);
        const sb = makeSandbox(
            plan.gpuIdentities.map((c) => ({
                ...c,
                driver: plan.gpuChecks.some((g) => g.address === c.address) ? "vfio-pci" : null,
            })),
        );
        sb.setCmdline(`root=/dev/mapper/pve-root ${plan.kernelArgs.join(" ")}`);
        const t = { ...withMemory(priv?.memoryFit), script: renderCheckScript(plan) };
        await expect(checkHost(t, sb.ssh())).resolves.toEqual({ required: false, reasons: [] });
        sb.write("proc/meminfo", `MemTotal:       ${110 * 1048576} kB\n`);
        await expect(checkHost(t, sb.ssh())).rejects.toThrow(
            "ai-dualstack[private]: ERROR: containers.private-monitoring.memoryGiB: 4 GiB does not fit: ",
        );
    });
});
