// The node's side, booted: a Debian 13 (and 12) standing for pve1 at its planned address on the LAN runs
// the set-ups `up` sends to the node that do not create guests: the host bootstrap, the node's
// monitoring set-up and the security container's node part (the firewall bouncer and the access-log
// shipper), twice. Proxmox's own commands are stand-ins that record their calls (tests/systems/pveNode.ts);
// update-initramfs is the real one, on a real Debian kernel. Then: the kernel arguments and module files
// are written and read by the real tools (modprobe's config, the initramfs image rebuilt with them, the
// command line proxmox-boot-tool was asked to refresh); the node exporter answers the monitoring host;
// and the access log the shipper fetches through `qm guest exec` reaches the security container's
// CrowdSec (booted beside it, its set-up run as `up` runs it), whose ban the bouncer puts in the
// node's nftables set, also when the node starts before the container.
//
// What stays a stand-in and why: the boot loader's refresh is proxmox-boot-tool's (a ZFS-root install,
// so update-grub is not called; grub-probe cannot resolve an overlay root in a container anyway);
// `modprobe wireguard` (the lab's kernel has no module support); `zpool` is absent (OpenZFS's tools and
// module come with Proxmox), so the pool textfile carries no pools.

import { Lab } from "../../testing/booted/lab";
import { PlannedSetup, runSetup, setupNamed, setupsFor } from "../../testing/booted/setups";
import { BootedSystem, bootSystem, SUITE_LABEL, SUITES } from "../../testing/booted/system";
import type { PlannedStack } from "../../testing/planStack";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BOUNCER_SET, BOUNCER_TABLE } from "../../components/serviceLxc/crowdsec";
import { LxcConfig } from "../../config/schema";
import { parsedConfig } from "../helpers/config";
import {
    addressOf,
    bootContainer,
    describeBooted,
    DoubleRun,
    GUEST_NET,
    lab,
    NODE,
    privatePlan,
    runTwice,
} from "./helpers";
import { KERNEL_CMDLINE, prepareNode, queueGuestOutput, standInCalls } from "./pveNode";

const cfg = parsedConfig("private");
const crowdsec = (cfg.containers["private-security"] as LxcConfig).crowdsec as NonNullable<LxcConfig["crowdsec"]>;
const NODE_ADDRESS = NODE.address as string;
const SECURITY = addressOf("private-security");
const MONITORING = addressOf("private-monitoring");
/** The node's set-ups under test, in the plan's order; the others create guests (pct, qm). */
const SETUPS = ["private-pve1-bootstrap", "private-security-security-node", "private-monitoring-host-pve1-setup"];
const ATTACK_LOG = path.join(__dirname, "..", "fixtures", "security", "traefik-attack.log");
const SCANNER = "203.0.113.66"; // the recorded log's scanner (tests/components/serviceLxc/crowdsec.test.ts)
const VISITOR = "198.51.100.7";

/** A value of a rendered script's header, as bash reads it. */
function scriptVar(setup: PlannedSetup, name: string): string {
    const header = setup.stdin.split("\nset -euo")[0] ?? "";
    return execFileSync("bash", ["-c", `${header}\nprintf '%s' "\${${name}}"`], { encoding: "utf8" });
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value, or fails after `seconds` with what `explain` says. */
async function until<T>(seconds: number, check: () => Promise<T | undefined>, explain: () => Promise<string>) {
    for (const deadline = Date.now() + seconds * 1000; ; await wait(1000)) {
        const found = await check();
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`not within ${seconds} s:\n${await explain()}`);
    }
}

describeBooted.each(SUITES)("the node's set-ups, on a booted %s standing for pve1", (suite) => {
    let l: Lab;
    let node: BootedSystem;
    let sec: BootedSystem;
    let plan: PlannedStack;
    let run: DoubleRun | undefined;
    let initrdBefore = 0;
    const setup = (name: string) => setupNamed(plan, NODE_ADDRESS, name);
    const initrd = async () => Number(await node.sh("stat -c %Y /boot/initrd.img-*"));

    beforeAll(async () => {
        plan = await privatePlan();
        l = lab();
        [node, sec] = await Promise.all([
            bootSystem(l, {
                suite,
                address: NODE_ADDRESS,
                prefix: NODE.prefix,
                gateway: NODE.gateway,
                hostname: "pve1",
                interface: "vmbr0", // the installer's bridge (pve-installer, Proxmox/Install.pm)
            }),
            bootContainer(l, suite, "private-security"),
        ]);
        // The bouncer's local API: the container's CrowdSec set-up, which `up` runs before the node's part.
        const crowdsecSetup = setupNamed(plan, SECURITY, "private-security-security-crowdsec");
        const [, cs] = await Promise.all([prepareNode(node), runSetup(sec, crowdsecSetup)]);
        if (cs.code !== 0)
            throw new Error(`${crowdsecSetup.name} failed (exit ${cs.code}):\n${cs.stdout}\n${cs.stderr}`);
        initrdBefore = await initrd();
    }, 300_000);
    afterAll(async () => {
        await Promise.allSettled([node?.stop(), sec?.stop()]);
        l?.stop();
    }, 60_000);

    test(`${SUITE_LABEL[suite]}: the node's set-ups run, and a second run changes nothing`, async () => {
        const setups = setupsFor(plan, NODE_ADDRESS).filter((s) => SETUPS.includes(s.name));
        expect(setups.map((s) => s.name)).toEqual(SETUPS);
        run = await runTwice(node, setups);
        expect(run.changes).toEqual([]);
        // Every change asked of Proxmox was asked once: the second run only read.
        const calls = standInCalls(node);
        const writes = calls.filter((c) => !/^(pvesh get|qm guest exec|modprobe wireguard)/.test(c));
        const sources = scriptVar(setup("private-pve1-bootstrap"), "AIDS_MGMT_SOURCES").split(" ");
        // The configured sources, then the CI/CD runner's address (its previews reach 22 and 8006; runnerSources).
        expect(sources).toEqual([...cfg.proxmox.managementSources, `${addressOf("private-cicd")}/32`]);
        expect(writes).toEqual([
            "proxmox-boot-tool refresh",
            expect.stringMatching(/^proxmox-boot-tool refresh: cmdline /),
            "pvesm set local --content iso,vztmpl,backup,snippets,import",
            "pvesh create /cluster/firewall/ipset --name management --comment ai-dualstack: GUI and SSH access",
            ...sources.map((c) => `pvesh create /cluster/firewall/ipset/management --cidr ${c} --comment ai-dualstack`),
            "pvesh set /cluster/firewall/options --enable 1",
            `pvesh create /nodes/pve1/firewall/rules --type in --action ACCEPT --enable 1 --proto tcp --dport 9100,9221 --source ${MONITORING} --comment ai-dualstack monitoring: node and pve exporters`,
        ]);
    }, 600_000);

    test("the kernel arguments reach the boot loader's command line, and the GRUB drop-in reads as grub-mkconfig reads it", async () => {
        expect(run).toBeDefined();
        const args = scriptVar(setup("private-pve1-bootstrap"), "AIDS_KERNEL_ARGS");
        expect(args).toContain("intel_iommu=on");
        expect(await node.sh("cat /etc/kernel/cmdline")).toBe(`${KERNEL_CMDLINE} ${args}\n`);
        // proxmox-boot-tool was asked to refresh once the command line was written, and saw the new one.
        expect(standInCalls(node)).toContain(`proxmox-boot-tool refresh: cmdline ${KERNEL_CMDLINE} ${args}`);
        // grub-mkconfig sources /etc/default/grub, then each /etc/default/grub.d/*.cfg (util/grub-mkconfig.in).
        const grub = await node.sh(
            `GRUB_CMDLINE_LINUX_DEFAULT=quiet; . /etc/default/grub.d/ai-dualstack.cfg; echo "$GRUB_CMDLINE_LINUX_DEFAULT"`,
        );
        expect(grub).toBe(`quiet ${args}\n`);
    });

    test("the module files are written, read by the real modprobe, and in the initramfs update-initramfs rebuilt", async () => {
        expect(run).toBeDefined();
        const bootstrap = setup("private-pve1-bootstrap");
        const ids = scriptVar(bootstrap, "AIDS_VFIO_IDS").split(",").sort().join(",");
        expect(await node.sh("cat /etc/modules-load.d/ai-dualstack-vfio.conf")).toBe(
            "# Managed by ai-dualstack\nvfio\nvfio_iommu_type1\nvfio_pci\n",
        );
        // kmod's own reading of /etc/modprobe.d (module names as modprobe normalises them).
        const config = await node.sh("/usr/sbin/modprobe --showconfig");
        expect(config).toContain(`options vfio_pci ids=${ids} disable_vga=1`);
        expect(config).toContain(`options zfs zfs_arc_max=${scriptVar(bootstrap, "AIDS_ZFS_ARC_MAX")}`);
        for (const driver of scriptVar(bootstrap, "AIDS_BLACKLIST").split(" ")) {
            expect(config).toContain(`blacklist ${driver}`);
            expect(config).toContain(`softdep ${driver} pre: vfio-pci`);
        }
        // update-initramfs -u -k all rebuilt the kernel's image after the files were written: they are in it.
        expect(await initrd()).toBeGreaterThan(initrdBefore);
        const image = await node.sh("lsinitramfs /boot/initrd.img-* | grep '^etc/modprobe.d/' | sort");
        expect(image).toBe(
            [
                "etc/modprobe.d/ai-dualstack-blacklist.conf",
                "etc/modprobe.d/zz-ai-dualstack-vfio.conf",
                "etc/modprobe.d/zz-ai-dualstack-zfs.conf",
                "",
            ].join("\n"),
        );
    }, 60_000);

    test("the node exporter and the pve exporter answer the monitoring host", async () => {
        expect(run).toBeDefined();
        const monitoring = l.addHost(MONITORING, GUEST_NET.prefix, GUEST_NET.gateway);
        const metrics = monitoring
            .exec("curl", ["-fsS", `http://${NODE_ADDRESS}:9100/metrics`])
            .split("\n")
            .filter((m) => /^(node_exporter_build_info|node_textfile_|node_scrape_collector_success)/.test(m));
        expect(metrics).toContainEqual(expect.stringMatching(/^node_exporter_build_info\{/));
        // The ZFS collector is on (its success is 0 here: no ZFS in this kernel).
        expect(metrics).toContainEqual(expect.stringMatching(/^node_scrape_collector_success\{collector="zfs"\} /));
        // The pool-status textfile, written by its job's first run and read (no pools here: no zpool, see above).
        expect(metrics).toContainEqual(
            expect.stringMatching(
                /^node_textfile_mtime_seconds\{file="(\/var\/lib\/prometheus\/node-exporter\/)?aidualstack_zfs\.prom"\} /,
            ),
        );
        expect(metrics).toContain("node_textfile_scrape_error 0");
        expect(
            monitoring.exec("curl", ["-fsS", "-o", "/dev/null", "-w", "%{http_code}", `http://${NODE_ADDRESS}:9221/`]),
        ).toBe("200");
        expect(
            await node.sh(
                "systemctl is-active prometheus-node-exporter aidualstack-pve-exporter aidualstack-zpool-textfile.timer",
            ),
        ).toBe("active\nactive\nactive\n");
    }, 60_000);

    test("the shipper carries the proxy's access log to CrowdSec, and the bouncer drops the scanner toward the proxy", async () => {
        expect(run).toBeDefined();
        expect(await node.sh("cat /etc/modules-load.d/ai-dualstack-wireguard.conf")).toBe("wireguard\n");
        expect(standInCalls(node)).toContain("modprobe wireguard");
        const [vmid, container] = scriptVar(setup("private-security-security-node"), "AIDS_SHIP_ARGS").split(" ");
        expect(Number(vmid)).toBe(crowdsec.proxyVmid);
        queueGuestOutput(node, crowdsec.proxyVmid, fs.readFileSync(ATTACK_LOG, "utf8"));
        // The shipper's next turn (every 10 s) fetches the lines through the guest agent and sends them.
        await until(
            30,
            async () => ((await node.sh(`cat /var/log/pve-standins/guest-${vmid}.out`)) === "" ? true : undefined),
            async () => node.sh("systemctl status aids-proxy-log-ship --no-pager || true"),
        );
        expect(standInCalls(node).filter((c) => c.startsWith("qm "))).toContainEqual(
            expect.stringMatching(
                new RegExp(
                    `^qm guest exec ${vmid} --timeout 30 -- docker logs --since \\d+ --until \\d+ ${container}$`,
                ),
            ),
        );
        const set = `nft list set ip ${BOUNCER_TABLE} ${BOUNCER_SET}`;
        const banned = await until(
            60,
            async () => {
                const elements = await node.sh(set);
                return elements.includes(SCANNER) ? elements : undefined;
            },
            async () =>
                `${await sec.sh("cscli decisions list")}\n${await node.sh(`${set}; tail -5 /var/log/crowdsec-firewall-bouncer.log`)}`,
        );
        expect(banned).not.toContain(VISITOR);
        const table = await node.sh(`nft list chain ip ${BOUNCER_TABLE} forward`);
        expect(table).toMatch(
            new RegExp(
                `ip daddr ${crowdsec.proxyAddress} ip saddr @${BOUNCER_SET} counter packets \\d+ bytes \\d+ drop`,
            ),
        );
    }, 120_000);

    test("the bouncer comes back by itself when the node starts before the security container", async () => {
        expect(run).toBeDefined();
        // A node boot: the bouncer starts while the container (started later by pve-guests) is still down.
        await sec.sh("systemctl stop crowdsec");
        await node.sh("systemctl restart crowdsec-firewall-bouncer || true");
        const restarts = async () =>
            Number((await node.sh("systemctl show -p NRestarts --value crowdsec-firewall-bouncer")).trim());
        const before = await restarts();
        await until(
            30,
            async () =>
                (await node.ssh("systemctl is-active --quiet crowdsec-firewall-bouncer")).code !== 0 ? true : undefined,
            async () => node.sh("systemctl status crowdsec-firewall-bouncer --no-pager || true"),
        );
        await sec.sh("systemctl start crowdsec");
        await until(
            60,
            async () => {
                const up = (await node.ssh("systemctl is-active --quiet crowdsec-firewall-bouncer")).code === 0;
                return up && (await node.sh(`nft list set ip ${BOUNCER_TABLE} ${BOUNCER_SET}`)).includes(SCANNER)
                    ? true
                    : undefined;
            },
            async () =>
                node.sh(
                    "systemctl status crowdsec-firewall-bouncer --no-pager || true; tail -5 /var/log/crowdsec-firewall-bouncer.log",
                ),
        );
        expect(await restarts()).toBeGreaterThan(before);
    }, 120_000);
});
