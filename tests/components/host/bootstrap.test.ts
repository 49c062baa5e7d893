// The host bootstrap: the plan derived from config (plain), and the rendered script run with real
// bash against a fake Proxmox root, checked by shellcheck.

import * as fs from "fs";
import * as path from "path";
import {
    bootstrapPlan,
    kernelArgs,
    parseRebootStatus,
    renderBootstrapScript,
    renderCheckScript,
    runnerSources,
} from "../../../components/host/bootstrap";
import { NodeModel, resolveNode } from "../../../config/resolve";
import { NodeConfig } from "../../../config/schema";
import { inlineScript } from "../../../lib/scripts";
import { parsedConfig, stackModel } from "../../helpers/config";
import { makeSandbox, PciDevice, Sandbox, shellcheckScripts, validator } from "../../helpers/sandbox";

const cfg = parsedConfig("private");
const nodeConfig = cfg.nodes["pve1"] as NodeConfig;
const node: NodeModel = resolveNode("pve1", nodeConfig, "private");
const privatePlan = bootstrapPlan(node, "private", cfg.proxmox);
const publicPlan = bootstrapPlan(resolveNode("pve1", nodeConfig, "public"), "public", cfg.proxmox);
const ARGS = "intel_iommu=on iommu=pt default_hugepagesz=1G hugepagesz=1G hugepages=64";

describe("bootstrapPlan", () => {
    test("kernel args: Intel IOMMU in passthrough mode and the hugepage pool of both environments", () => {
        expect(kernelArgs(node).join(" ")).toBe(ARGS);
        const amd: NodeModel = resolveNode(
            "pve1",
            {
                ...nodeConfig,
                cpu: { ...nodeConfig.cpu, vendor: "amd" },
                memory: { ...nodeConfig.memory, hugepageSize: "2M" },
                allocations: { private: { cpuset: "2-9", memoryGiB: 16, hugepagesGiB: 8 } },
            },
            "private",
        );
        expect(kernelArgs(amd)).toEqual([
            "amd_iommu=on",
            "iommu=pt",
            "default_hugepagesz=2M",
            "hugepagesz=2M",
            "hugepages=4096",
        ]);
        const none = resolveNode(
            "pve1",
            { ...nodeConfig, allocations: { public: { cpuset: "2-9", memoryGiB: 16, hugepagesGiB: 0 } } },
            "private",
        );
        expect(kernelArgs(none)).toEqual(["intel_iommu=on", "iommu=pt"]);
    });

    test("host-wide parts agree between the stacks, vfio ids included; the GPU checks are each environment's own", () => {
        expect(publicPlan.kernelArgs).toEqual(privatePlan.kernelArgs);
        expect(publicPlan.blacklist).toEqual(privatePlan.blacklist);
        expect(privatePlan.blacklist).toEqual(expect.arrayContaining(["nouveau", "nvidia"]));
        // Every card's ids from either stack: one reboot binds both, the second stack needs none.
        expect(privatePlan.vfioIds).toEqual(["10de:228e", "10de:22e8", "10de:2504", "10de:2b85"]);
        expect(publicPlan.vfioIds).toEqual(privatePlan.vfioIds);
        expect(publicPlan.gpuIdentities).toEqual(privatePlan.gpuIdentities);
        expect(privatePlan.gpuIdentities.map((c) => c.address)).toEqual([
            "0000:01:00.0",
            "0000:01:00.1",
            "0000:02:00.0",
            "0000:02:00.1",
        ]);
        expect(privatePlan.gpuChecks.map((c) => `${c.address}@${c.iommuGroup}`)).toEqual([
            "0000:01:00.0@14",
            "0000:01:00.1@14",
        ]);
        expect(privatePlan.zfsArcMaxBytes).toBe(8 * 1024 ** 3);
    });
});

test("parseRebootStatus reads the script's last verdict", () => {
    expect(parseRebootStatus("a\nai-dualstack[private]: reboot-required=no\n")).toEqual({
        required: false,
        reasons: [],
    });
    expect(
        parseRebootStatus(
            "ai-dualstack[public]: reboot-required=yes (kernel argument iommu=pt is not active; 0000:02:00.0 is bound to nouveau, not vfio-pci)",
        ),
    ).toEqual({
        required: true,
        reasons: ["kernel argument iommu=pt is not active", "0000:02:00.0 is bound to nouveau, not vfio-pci"],
    });
    expect(parseRebootStatus("")).toEqual({ required: false, reasons: [] });
});

test("inlineScript carries a script through base64 intact", () => {
    const script = renderBootstrapScript(privatePlan, "remove");
    const line = inlineScript(script);
    const b64 = /^printf %s (\S+) \| base64 -d \| bash$/.exec(line)?.[1];
    expect(Buffer.from(b64 ?? "", "base64").toString("utf8")).toBe(script);
});

const devices = (driver: string | null): PciDevice[] =>
    [privatePlan, publicPlan].flatMap((p) => p.gpuChecks.map((c) => ({ ...c, driver })));

describe("the bootstrap on a fake Proxmox root (real bash)", () => {
    test("first run writes everything; a second run changes nothing", () => {
        const sb = makeSandbox(devices("nouveau"));
        const first = sb.run(renderBootstrapScript(privatePlan));
        expect(first.stderr).toBe("");
        expect(first.status).toBe(0);
        const vfio = sb.read("etc/modprobe.d/zz-ai-dualstack-vfio.conf");
        expect(vfio).toContain("options vfio-pci ids=10de:228e,10de:22e8,10de:2504,10de:2b85 disable_vga=1");
        expect(vfio).toContain("softdep nouveau pre: vfio-pci");
        expect(sb.read("etc/modprobe.d/ai-dualstack-blacklist.conf")).toContain("blacklist nouveau");
        expect(sb.read("etc/modules-load.d/ai-dualstack-vfio.conf")).toMatch(/^vfio_pci$/m);
        expect(sb.read("etc/default/grub.d/ai-dualstack.cfg")).toContain(`\${GRUB_CMDLINE_LINUX_DEFAULT} ${ARGS}"`);
        expect(sb.read("etc/modprobe.d/zz-ai-dualstack-zfs.conf")).toBe(`options zfs zfs_arc_max=${8 * 1024 ** 3}\n`);
        expect(sb.calls()).toEqual([
            "update-initramfs -u -k all",
            "update-grub",
            "pvesh get /storage/local --output-format json",
            "pvesm set local --content iso,vztmpl,backup,snippets,import",
            "pvesh get /cluster/firewall/ipset --output-format json",
            "pvesh create /cluster/firewall/ipset --name management --comment ai-dualstack: GUI and SSH access",
            "pvesh get /cluster/firewall/ipset/management --output-format json",
            // The VPN keeps its access before the firewall goes on.
            "pvesh create /cluster/firewall/ipset/management --cidr 10.8.0.0/24 --comment ai-dualstack",
            "pvesh get /cluster/firewall/options --output-format json",
            "pvesh set /cluster/firewall/options --enable 1",
        ]);

        sb.clearCalls();
        sb.write("pvesh/storage/local.json", '{"content":"iso,vztmpl,backup,snippets,import"}');
        sb.write("pvesh/cluster/firewall/ipset.json", '[{"name":"management"}]');
        sb.write("pvesh/cluster/firewall/ipset/management.json", '[{"cidr":"10.8.0.0/24"}]');
        sb.write("pvesh/cluster/firewall/options.json", '{"enable":1}');
        const before = fs.readdirSync(path.join(sb.root, "etc/modprobe.d")).map((f) => sb.read(`etc/modprobe.d/${f}`));
        const second = sb.run(renderBootstrapScript(privatePlan));
        expect(second.status).toBe(0);
        expect(second.stdout).not.toContain("wrote");
        expect(sb.calls().filter((c) => !c.startsWith("pvesh get"))).toEqual([]);
        expect(fs.readdirSync(path.join(sb.root, "etc/modprobe.d")).map((f) => sb.read(`etc/modprobe.d/${f}`))).toEqual(
            before,
        );
    });

    test("the vfio ids are the union of the environments' fragments; removing one leaves the cards bound", () => {
        const sb = makeSandbox(devices("nouveau"));
        expect(sb.run(renderBootstrapScript(privatePlan)).status).toBe(0);
        expect(sb.run(renderBootstrapScript(publicPlan)).status).toBe(0);
        expect(sb.read("etc/modprobe.d/zz-ai-dualstack-vfio.conf")).toContain(
            "ids=10de:228e,10de:22e8,10de:2504,10de:2b85 ",
        );

        sb.clearCalls();
        const removed = sb.run(renderBootstrapScript(privatePlan, "remove"));
        expect(removed.status).toBe(0);
        expect(sb.exists("etc/ai-dualstack/vfio.d/private.ids")).toBe(false);
        // The public fragment names every card too: nothing changes on the host, no initramfs rebuild.
        expect(sb.read("etc/modprobe.d/zz-ai-dualstack-vfio.conf")).toContain(
            "ids=10de:228e,10de:22e8,10de:2504,10de:2b85 ",
        );
        // Host-wide settings stay for the other stack.
        expect(sb.read("etc/default/grub.d/ai-dualstack.cfg")).toContain(ARGS);
        expect(sb.exists("etc/modprobe.d/ai-dualstack-blacklist.conf")).toBe(true);
        expect(sb.calls()).toEqual([]);
        expect(sb.run(renderBootstrapScript(publicPlan, "remove")).status).toBe(0);
        expect(sb.exists("etc/modprobe.d/zz-ai-dualstack-vfio.conf")).toBe(false);
    });

    test("systemd-boot: /etc/kernel/cmdline keeps its own tokens, drops and replaces ours, and is refreshed", () => {
        const sb = makeSandbox(devices("nouveau"), {
            systemdBoot: "root=ZFS=rpool/ROOT/pve-1 boot=zfs hugepages=8 amd_iommu=on",
        });
        expect(sb.run(renderBootstrapScript(privatePlan)).status).toBe(0);
        expect(sb.read("etc/kernel/cmdline")).toBe(`root=ZFS=rpool/ROOT/pve-1 boot=zfs ${ARGS}\n`);
        expect(sb.calls()).toContain("proxmox-boot-tool refresh");
        expect(sb.calls()).not.toContain("update-grub");
        // No hugepages any more: the old reservation goes with them.
        const noHuge = { ...privatePlan, kernelArgs: ["intel_iommu=on", "iommu=pt"] };
        expect(sb.run(renderBootstrapScript(noHuge)).status).toBe(0);
        expect(sb.read("etc/kernel/cmdline")).toBe("root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on iommu=pt\n");
    });
});

describe("the host check on a fake Proxmox root (real bash)", () => {
    test("before the reboot it reports what is not live yet, only for its own cards", () => {
        const sb = makeSandbox(devices("nouveau"));
        const run = sb.run(renderCheckScript(privatePlan));
        expect(run.stderr).toBe("");
        expect(run.status).toBe(0);
        const status = parseRebootStatus(run.stdout);
        expect(status.required).toBe(true);
        expect(status.reasons).toContain("kernel argument intel_iommu=on is not active");
        expect(status.reasons).toContain("0000:01:00.0 is bound to nouveau, not vfio-pci");
        expect(status.reasons.join()).not.toContain("0000:02:00.0");
        // Read-only: the one tool it ran only lists the pools.
        expect(sb.calls()).toEqual(["zpool status -LP"]);
    });

    test("after the reboot the verdict is no", () => {
        const sb = makeSandbox(devices("vfio-pci"));
        sb.setCmdline(`BOOT_IMAGE=/boot/vmlinuz root=/dev/mapper/pve-root ro quiet ${ARGS}`);
        const run = sb.run(renderCheckScript(privatePlan));
        expect(run.status).toBe(0);
        expect(parseRebootStatus(run.stdout)).toEqual({ required: false, reasons: [] });
    });

    test.each([
        [
            "a card that is not what the config says",
            (sb: Sandbox) => sb.write("sys/bus/pci/devices/0000:01:00.0/device", "0x2504\n"),
            "0000:01:00.0: device is 2504 on the host, but the config says 2b85 (vendorDeviceId); did the cards move slots?",
        ],
        [
            "the other environment's card holding a NIC's id (it would reach the vfio-pci list)",
            (sb: Sandbox) => sb.write("sys/bus/pci/devices/0000:02:00.0/device", "0x1533\n"),
            "0000:02:00.0: device is 1533 on the host, but the config says 2504 (vendorDeviceId); did the cards move slots? Fix pciAddress or vendorDeviceId (`lspci -Dnnv` shows both; nothing was written)",
        ],
        [
            "IOMMU off in the BIOS",
            (sb: Sandbox) => {
                sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
                fs.rmSync(path.join(sb.root, "sys/kernel/iommu_groups"), { recursive: true });
            },
            "turn on VT-d (Intel) or AMD-Vi/IOMMU in the BIOS",
        ],
        [
            "another device in the card's IOMMU group",
            (sb: Sandbox) => {
                sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
                sb.write("sys/bus/pci/devices/0000:00:1f.3/class", "0x040300\n");
                fs.symlinkSync(
                    "../../../../bus/pci/devices/0000:00:1f.3",
                    path.join(sb.root, "sys/kernel/iommu_groups/14/devices/0000:00:1f.3"),
                );
            },
            "IOMMU group 14 also holds 0000:00:1f.3 (class 0x040300)",
        ],
        [
            "pending network changes",
            (sb: Sandbox) => sb.write("etc/network/interfaces.new", "auto vmbr0\n"),
            "/etc/network/interfaces.new holds pending network changes",
        ],
    ])("stops the run on %s, with the fix", (_what, breakIt, message) => {
        const sb = makeSandbox(devices("nouveau"));
        breakIt(sb);
        const run = sb.run(renderCheckScript(privatePlan));
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(message);
    });

    // The script reports MemTotal as the kernel does; components/host/check.ts judges it
    // (tests/components/host/check.test.ts), so the script itself passes with less.
    test("MemTotal is reported for the check to judge", () => {
        const sb = makeSandbox(devices("vfio-pci"));
        sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
        sb.write("proc/meminfo", "MemTotal:       65536000 kB\nMemFree:        1000 kB\n");
        const run = sb.run(renderCheckScript(privatePlan));
        expect(run.status).toBe(0);
        expect(run.stdout).toContain("ai-dualstack[private]: memtotal-kib=65536000\n");
    });

    // Without zfsArcMaxGiB the budget counts Proxmox's installer cap, 10% of 125 GiB; a node whose
    // ARC may grow past it (OpenZFS's own default, no zfs.conf) is refused, one inside it passes.
    test("the ZFS ARC maximum in force is checked when the config leaves the cap to the node", () => {
        const memory = { ...nodeConfig.memory, zfsArcMaxGiB: undefined };
        const plan = bootstrapPlan(resolveNode("pve1", { ...nodeConfig, memory }, "private"), "private", cfg.proxmox);
        const sb = makeSandbox(devices("vfio-pci"));
        sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
        sb.write("proc/spl/kstat/zfs/arcstats", `c_min 4 4194304000\nc_max 4 ${124 * 1024 ** 3}\n`);
        const refused = sb.run(renderCheckScript(plan));
        expect(refused.status).toBe(1);
        expect(refused.stderr).toContain(
            "the ZFS ARC may grow to 124 GiB (c_max in /proc/spl/kstat/zfs/arcstats), more than the 12 GiB the memory budget counts",
        );
        sb.write("proc/spl/kstat/zfs/arcstats", `c_max 4 ${12 * 1024 ** 3}\n`);
        expect(sb.run(renderCheckScript(plan)).status).toBe(0);
        // With the cap configured the bootstrap writes it, so the node's current maximum is not refused.
        sb.write("proc/spl/kstat/zfs/arcstats", `c_max 4 ${124 * 1024 ** 3}\n`);
        expect(sb.run(renderCheckScript(privatePlan)).status).toBe(0);
    });

    test("the datacenter firewall guard: an SSH client outside the management networks is refused", () => {
        const sb = makeSandbox(devices("vfio-pci"));
        sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
        const saved = process.env["SSH_CLIENT"];
        try {
            process.env["SSH_CLIENT"] = "172.16.5.9 51234 22";
            const refused = sb.run(renderCheckScript(privatePlan));
            expect(refused.status).toBe(1);
            expect(refused.stderr).toContain(
                "turning the datacenter firewall on would lock out this machine (172.16.5.9): it is in neither the node's local network (unknown) nor the management IPSet; add its network to proxmox.managementSources",
            );
            // The VPN in proxmox.managementSources covers its clients; so does a management IPSet entry.
            process.env["SSH_CLIENT"] = "10.8.0.7 51234 22";
            expect(sb.run(renderCheckScript(privatePlan)).status).toBe(0);
            process.env["SSH_CLIENT"] = "172.16.5.9 51234 22";
            sb.write("pvesh/cluster/firewall/ipset/management.json", '[{"cidr":"172.16.0.0/16"}]');
            expect(sb.run(renderCheckScript(privatePlan)).status).toBe(0);
            // Once the firewall is on, the guard has nothing left to protect.
            sb.write("pvesh/cluster/firewall/ipset/management.json", "[]");
            sb.write("pvesh/cluster/firewall/options.json", '{"enable":1}');
            expect(sb.run(renderCheckScript(privatePlan)).status).toBe(0);
        } finally {
            if (saved === undefined) delete process.env["SSH_CLIENT"];
            else process.env["SSH_CLIENT"] = saved;
        }
    });

    describe("the CI/CD runner (10.10.10.23) reaches the node's 22 and 8006 through the management IP set", () => {
        // pve-firewall admits the node's 22/8006 from the management IP set and local_network only
        // (src/PVE/Firewall.pm); the runner sits on a guest bridge, in neither.
        const runners = runnerSources(stackModel("private").containers);
        const withRunner = bootstrapPlan(node, "private", cfg.proxmox, runners);

        test("the private stack's runner is its cicd container's address; the public stack has none", () => {
            expect(runners).toEqual(["10.10.10.23/32"]);
            expect(runnerSources(stackModel("public").containers)).toEqual([]);
            expect(withRunner.managementSources).toEqual(["10.8.0.0/24", "10.10.10.23/32"]);
            expect(privatePlan.managementSources).toEqual(["10.8.0.0/24"]);
        });

        test("the bootstrap adds it to the management IP set before the firewall goes on, once", () => {
            const sb = makeSandbox(devices("vfio-pci"));
            expect(sb.run(renderBootstrapScript(withRunner)).status).toBe(0);
            const calls = sb.calls();
            const added = calls.indexOf(
                "pvesh create /cluster/firewall/ipset/management --cidr 10.10.10.23/32 --comment ai-dualstack",
            );
            expect(added).toBeGreaterThan(-1);
            expect(added).toBeLessThan(calls.indexOf("pvesh set /cluster/firewall/options --enable 1"));
            sb.clearCalls();
            sb.write("pvesh/cluster/firewall/ipset.json", '[{"name":"management"}]');
            sb.write(
                "pvesh/cluster/firewall/ipset/management.json",
                '[{"cidr":"10.8.0.0/24"},{"cidr":"10.10.10.23/32"}]',
            );
            expect(sb.run(renderBootstrapScript(withRunner)).status).toBe(0);
            expect(sb.calls().filter((c) => c.includes("ipset/management --cidr"))).toEqual([]);
        });

        test("the host check, run from the runner, is not refused as a client the firewall would lock out", () => {
            const sb = makeSandbox(devices("vfio-pci"));
            sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
            const saved = process.env["SSH_CLIENT"];
            try {
                process.env["SSH_CLIENT"] = "10.10.10.23 40000 22";
                expect(sb.run(renderCheckScript(privatePlan)).status).toBe(1);
                expect(sb.run(renderCheckScript(withRunner)).status).toBe(0);
            } finally {
                if (saved === undefined) delete process.env["SSH_CLIENT"];
                else process.env["SSH_CLIENT"] = saved;
            }
        });
    });

    describe("storage: a new mirror never takes another pool's disks; a registered dataset exists", () => {
        const DISK = "/dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S7DNNJ0X000001";
        /** The 2 TB disk as a link to /dev/nvme1n1, and zpool status naming `pool` on its partition. */
        const withPool = (pool: string) => {
            const sb = makeSandbox(devices("vfio-pci"));
            sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
            sb.write("dev/nvme1n1", "");
            fs.mkdirSync(path.join(sb.root, "dev/disk/by-id"), { recursive: true });
            fs.symlinkSync("../../nvme1n1", path.join(sb.root, DISK));
            sb.write(
                "zpool-status",
                `  pool: ${pool}\n config:\n\tNAME STATE\n\t${pool} ONLINE\n\t  mirror-0 ONLINE\n\t    /dev/nvme1n1p3 ONLINE\n`,
            );
            return sb;
        };

        test("a disk of rpool (where Proxmox lives) is refused before anything is written", () => {
            const sb = withPool("rpool");
            const run = sb.run(renderCheckScript(privatePlan));
            expect(run.status).toBe(1);
            expect(run.stderr).toContain(
                `${DISK} (/dev/nvme1n1) is part of ZFS pool rpool; the mirror for pool tankpriv would wipe it. Take other disks`,
            );
            expect(sb.calls()).toEqual(["zpool status -LP"]);
        });

        test("the mirror's own pool, once created, is fine", () => {
            expect(withPool("tankpriv").run(renderCheckScript(privatePlan)).status).toBe(0);
        });

        test("the public dataset on rpool must exist; the check says how to create it", () => {
            expect(publicPlan.zfsExisting).toEqual(["rpool/aids-public"]);
            expect(publicPlan.zfsNew).toEqual([]);
            const sb = makeSandbox(devices("vfio-pci"));
            const missing = sb.run(renderCheckScript(publicPlan));
            expect(missing.status).toBe(1);
            expect(missing.stderr).toContain(
                "ZFS pool or dataset rpool/aids-public does not exist, and a mirror without disks only registers it; create it (`zfs create rpool/aids-public`",
            );
            sb.write("zfs-datasets", "rpool\nrpool/aids-public\n");
            expect(sb.run(renderCheckScript(publicPlan)).status).toBe(0);
        });
    });

    test("a bridge in the card's group is harmless", () => {
        const sb = makeSandbox(devices("vfio-pci"));
        sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
        sb.write("sys/bus/pci/devices/0000:00:01.0/class", "0x060400\n");
        fs.symlinkSync(
            "../../../../bus/pci/devices/0000:00:01.0",
            path.join(sb.root, "sys/kernel/iommu_groups/14/devices/0000:00:01.0"),
        );
        const run = sb.run(renderCheckScript(privatePlan));
        expect(run.status).toBe(0);
        expect(parseRebootStatus(run.stdout).required).toBe(false);
    });
});

const shellcheck = validator("shellcheck");
(shellcheck ? test : test.skip)("shellcheck finds nothing in the rendered scripts", () => {
    // Throws, with shellcheck's findings, on any warning or error.
    expect(() =>
        shellcheckScripts(shellcheck as string, {
            "apply.sh": renderBootstrapScript(privatePlan),
            "remove.sh": renderBootstrapScript(publicPlan, "remove"),
            "check.sh": renderCheckScript(privatePlan),
        }),
    ).not.toThrow();
});

// A mixed node (issue 24): the RTX 5090 to the private VM on vfio-pci, the RTX 3060 to the public
// container on the host's NVIDIA driver.
describe("a mixed node: the 5090 on vfio-pci, the 3060 on the host's driver (real bash)", () => {
    const mixedConfig: NodeConfig = {
        ...nodeConfig,
        nvidiaDriver: { version: "550.163.01" },
        gpus: {
            ...nodeConfig.gpus,
            rtx3060: { ...(nodeConfig.gpus["rtx3060"] as NodeConfig["gpus"][string]), guest: "container" },
        },
    };
    const mixedPrivate = bootstrapPlan(resolveNode("pve1", mixedConfig, "private"), "private", cfg.proxmox);
    const mixedPublic = bootstrapPlan(resolveNode("pve1", mixedConfig, "public"), "public", cfg.proxmox);
    const cards = (fiveDriver: string | null, threeDriver: string | null): PciDevice[] =>
        mixedPrivate.gpuIdentities.map((c) => ({
            ...c,
            driver: c.address.startsWith("0000:01") ? fiveDriver : threeDriver,
        }));

    test("both stacks write the same: the 5090's ids only, nvidia after vfio-pci, the driver pinned", () => {
        expect(mixedPublic.vfioIds).toEqual(["10de:22e8", "10de:2b85"]);
        expect(mixedPrivate.vfioIds).toEqual(mixedPublic.vfioIds);
        expect(mixedPublic.hostDriverChecks.map((c) => c.name)).toEqual(["rtx3060"]);
        expect(mixedPrivate.hostDriverChecks).toEqual([]);
        expect(mixedPublic.gpuChecks).toEqual([]);

        const sb = makeSandbox(cards("nouveau", "nouveau"));
        sb.write("apt-offers", "550.163.01-2\n");
        const first = sb.run(renderBootstrapScript(mixedPublic));
        expect(first.stderr).toBe("");
        expect(first.status).toBe(0);
        const vfio = sb.read("etc/modprobe.d/zz-ai-dualstack-vfio.conf");
        expect(vfio).toContain("options vfio-pci ids=10de:22e8,10de:2b85 disable_vga=1\n");
        expect(vfio).toContain("softdep nvidia pre: vfio-pci\n");
        expect(vfio).toContain("softdep nvidia_drm pre: vfio-pci\n");
        const blacklist = sb.read("etc/modprobe.d/ai-dualstack-blacklist.conf");
        expect(blacklist.split("\n").filter((l) => l.startsWith("blacklist"))).toEqual([
            "blacklist nouveau",
            "blacklist nvidiafb",
        ]);
        expect(sb.read("etc/apt/sources.list.d/ai-dualstack-nvidia.sources")).toContain(
            "Suites: trixie trixie-updates\nComponents: non-free\n",
        );
        expect(sb.read("etc/apt/preferences.d/ai-dualstack-nvidia")).toContain("Pin: version 550.163.01-*\n");
        expect(sb.calls().filter((c) => c.startsWith("apt") || c.startsWith("update-initramfs"))).toEqual([
            "apt-get update -qq",
            "apt-cache policy nvidia-open-kernel-dkms firmware-nvidia-gsp",
            "apt-get install -y -qq --no-install-recommends proxmox-default-headers nvidia-open-kernel-dkms nvidia-smi nvidia-modprobe nvidia-persistenced",
            "update-initramfs -u -k all",
        ]);
        // The private stack writes its own fragment, of the same ids: the union stays as it is.
        sb.clearCalls();
        expect(sb.run(renderBootstrapScript(mixedPrivate)).stdout).toContain(
            "wrote /etc/ai-dualstack/vfio.d/private.ids",
        );
        expect(sb.read("etc/modprobe.d/zz-ai-dualstack-vfio.conf")).toBe(vfio);

        // A second run of either changes nothing.
        sb.clearCalls();
        sb.write("pvesh/storage/local.json", '{"content":"iso,vztmpl,backup,snippets,import"}');
        sb.write("pvesh/cluster/firewall/ipset.json", '[{"name":"management"}]');
        sb.write("pvesh/cluster/firewall/ipset/management.json", '[{"cidr":"10.8.0.0/24"}]');
        sb.write("pvesh/cluster/firewall/options.json", '{"enable":1}');
        for (const plan of [mixedPrivate, mixedPublic]) {
            const again = sb.run(renderBootstrapScript(plan));
            expect(again.status).toBe(0);
            expect(again.stdout).not.toMatch(/wrote|installing/);
        }
        // Only reads: the installed version, the Proxmox settings.
        expect(sb.calls().filter((c) => !c.startsWith("pvesh get") && !c.startsWith("dpkg-query -W"))).toEqual([]);
    });

    test("a package manager that offers another version is refused before anything is installed", () => {
        const sb = makeSandbox(cards("nouveau", "nouveau"));
        sb.write("apt-offers", "535.247.01-1\n");
        const run = sb.run(renderBootstrapScript(mixedPublic));
        expect(run.status).toBe(1);
        expect(run.stderr).toBe(
            "ai-dualstack[public]: ERROR: Debian trixie offers no nvidia-open-kernel-dkms 550.163.01 (`apt-cache policy nvidia-open-kernel-dkms`): it is in contrib, its firmware in non-free-firmware; enable both in the node's Debian sources, or set nodes.<node>.nvidiaDriver.version to the version offered\n",
        );
        // Nothing was installed.
        expect(sb.calls().filter((c) => c.startsWith("apt-get install"))).toEqual([]);
    });

    test("the check names the binding that changes at the reboot, and is ready once the 3060 is on nvidia", () => {
        const sb = makeSandbox(cards("vfio-pci", "vfio-pci"));
        sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
        sb.write("zfs-datasets", "rpool\nrpool/aids-public\n");
        const before = sb.run(renderCheckScript(mixedPublic));
        expect(before.stderr).toBe("");
        expect(before.status).toBe(0);
        expect(parseRebootStatus(before.stdout).reasons).toEqual([
            "the host's NVIDIA driver is not loaded, the config says 550.163.01",
            "0000:02:00.0 (rtx3060) is bound to vfio-pci, not nvidia (the host's driver, for its container)",
        ]);
        sb.bind("0000:02:00.0", "nvidia");
        sb.write(
            "proc/driver/nvidia/version",
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.163.01  Release Build  (dvs-builder@U16)  Tue\n",
        );
        const after = sb.run(renderCheckScript(mixedPublic));
        expect(after.status).toBe(0);
        expect(parseRebootStatus(after.stdout).required).toBe(false);
        // The private stack still sees its 5090 on vfio-pci.
        expect(parseRebootStatus(sb.run(renderCheckScript(mixedPrivate)).stdout).required).toBe(false);
    });

    test("the check refuses a running driver that does not drive the card", () => {
        const blackwell: NodeConfig = {
            ...mixedConfig,
            nvidiaDriver: { version: "550.163.01" },
            gpus: {
                ...nodeConfig.gpus,
                rtx5090: { ...(nodeConfig.gpus["rtx5090"] as NodeConfig["gpus"][string]), guest: "container" },
            },
        };
        const plan = bootstrapPlan(resolveNode("pve1", blackwell, "private"), "private", cfg.proxmox);
        const sb = makeSandbox(cards("nvidia", "vfio-pci"));
        sb.setCmdline(`root=/dev/mapper/pve-root ${ARGS}`);
        sb.write(
            "proc/driver/nvidia/version",
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.163.01  Release Build  (dvs-builder@U16)  Tue\n",
        );
        const run = sb.run(renderCheckScript(plan));
        expect(run.status).toBe(1);
        expect(run.stderr).toBe(
            "ai-dualstack[private]: ERROR: the host's NVIDIA driver 550.163.01 (branch 550) does not drive rtx5090 (branch 570 or newer); install a newer driver and set nodes.<node>.nvidiaDriver.version to it, or give the card to a VM (guest: vm)\n",
        );
    });

    (shellcheck ? test : test.skip)("shellcheck finds nothing in the mixed node's scripts", () => {
        expect(() =>
            shellcheckScripts(shellcheck as string, {
                "apply.sh": renderBootstrapScript(mixedPublic),
                "check.sh": renderCheckScript(mixedPublic),
            }),
        ).not.toThrow();
    });
});
