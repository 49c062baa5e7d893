// A fake Proxmox root for running the real host bootstrap script with real bash: /etc, /proc/cmdline
// and sysfs entries for the GPUs, plus stand-ins for the host's tools (update-initramfs, pvesh...)
// that record how they were called. Only those tools are stand-ins; the script itself runs as is.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface PciDevice {
    address: string;
    vendorDeviceId: string;
    /** The board's subsystem vendor:device, as sysfs's subsystem_vendor/subsystem_device hold it. */
    subsystemId: string;
    iommuGroup: number;
    driver: string | null;
}

export interface Sandbox {
    root: string;
    /** Lines the stand-in tools logged, e.g. "update-initramfs -u -k all". */
    calls(): string[];
    clearCalls(): void;
    read(file: string): string;
    exists(file: string): boolean;
    write(file: string, content: string): void;
    setCmdline(cmdline: string): void;
    bind(address: string, driver: string | null): void;
    /** Runs a rendered script as `bash -s` reads it from stdin, like the SSH transport does. */
    run(script: string): { status: number; stdout: string; stderr: string };
    /** A stand-in `ssh` for checkHost: whatever it is asked, it runs its stdin as `bash -s` in the sandbox. */
    ssh(): string;
}

const TOOLS: Record<string, string> = {
    "update-initramfs": "",
    "update-grub": "",
    "proxmox-boot-tool": "",
    pvesm: "",
    // pvesh answers the reads the script makes from files in the sandbox (pvesh/<path>.json).
    pvesh: `if [ "$1" = get ]; then f="$AIDS_ROOT/pvesh$2.json"; [ -f "$f" ] || exit 2; cat "$f"; fi`,
    qm: `if [ "$1" = status ]; then cat "$AIDS_ROOT/qm-status" 2>/dev/null || echo "status: stopped"; fi`,
    pct: `if [ "$1" = status ]; then cat "$AIDS_ROOT/pct-status" 2>/dev/null || echo "status: stopped"; fi
if [ "$1" = config ]; then cat "$AIDS_ROOT/pct-config" 2>/dev/null; fi`,
    // apt and dpkg for the host's NVIDIA driver: an install "installs" the version apt-offers names.
    "apt-get": `if [ "$1" = install ]; then cat "$AIDS_ROOT/apt-offers" >"$AIDS_ROOT/dpkg-installed" 2>/dev/null; fi`,
    "dpkg-query": `cat "$AIDS_ROOT/dpkg-installed" 2>/dev/null || exit 1`,
    "apt-cache": `if [ "$1" = policy ]; then echo "  Candidate: $(cat "$AIDS_ROOT/apt-offers" 2>/dev/null || echo '(none)')"; fi`,
    // zfs and zpool answer from files in the sandbox: the datasets that exist, zpool status -LP.
    zfs: `if [ "$1" = list ]; then grep -qx "\${!#}" "$AIDS_ROOT/zfs-datasets" 2>/dev/null; fi`,
    zpool: `if [ "$1" = status ]; then cat "$AIDS_ROOT/zpool-status" 2>/dev/null; fi`,
};

export function makeSandbox(devices: PciDevice[], opts: { systemdBoot?: string } = {}): Sandbox {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-host-"));
    const bin = path.join(root, "stand-in-bin");
    const log = path.join(root, "calls.log");
    fs.mkdirSync(bin);
    for (const [tool, body] of Object.entries(TOOLS)) {
        const script = `#!/usr/bin/env bash\necho "${tool} $*" >> "${log}"\n${body}\n`;
        fs.writeFileSync(path.join(bin, tool), script, { mode: 0o755 });
    }
    const file = (p: string) => path.join(root, p);
    const write = (p: string, content: string) => {
        fs.mkdirSync(path.dirname(file(p)), { recursive: true });
        fs.writeFileSync(file(p), content);
    };
    write("etc/default/grub", 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n');
    write("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.8.12-4-pve root=/dev/mapper/pve-root ro quiet\n");
    write("pvesh/storage/local.json", '{"content":"iso,vztmpl,backup","path":"/var/lib/vz","type":"dir"}\n');
    write("pvesh/cluster/firewall/options.json", '{"enable":0,"policy_in":"DROP"}\n');
    write("pvesh/cluster/firewall/ipset.json", "[]\n");
    write("pvesh/cluster/firewall/ipset/management.json", "[]\n");
    write("proc/meminfo", "MemTotal:       131072000 kB\nMemFree:        120000000 kB\n");
    if (opts.systemdBoot !== undefined) {
        write("etc/kernel/cmdline", `${opts.systemdBoot}\n`);
        write("etc/kernel/proxmox-boot-uuids", "1234-ABCD\n");
    }
    const sb: Sandbox = {
        root,
        calls: () =>
            fs.existsSync(log)
                ? fs
                      .readFileSync(log, "utf8")
                      .split("\n")
                      .map((l) => l.trimEnd())
                      .filter((l) => l.length > 0)
                : [],
        clearCalls: () => fs.rmSync(log, { force: true }),
        read: (p) => fs.readFileSync(file(p), "utf8"),
        exists: (p) => fs.existsSync(file(p)),
        write,
        setCmdline: (cmdline) => write("proc/cmdline", `${cmdline}\n`),
        bind(address, driver) {
            const link = file(`sys/bus/pci/devices/${address}/driver`);
            fs.rmSync(link, { force: true });
            if (driver) {
                fs.mkdirSync(file(`sys/bus/pci/drivers/${driver}`), { recursive: true });
                fs.symlinkSync(`../../drivers/${driver}`, link);
            }
        },
        run(script) {
            const result = spawnSync("bash", ["-s"], {
                input: script,
                encoding: "utf8",
                env: { ...process.env, AIDS_ROOT: root, PATH: `${bin}:${process.env["PATH"] ?? ""}` },
            });
            return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
        },
        ssh() {
            const ssh = path.join(root, "ssh");
            fs.writeFileSync(
                ssh,
                `#!/usr/bin/env bash\nexport AIDS_ROOT="${root}" PATH="${bin}:$PATH"\nexec bash -s\n`,
                { mode: 0o755 },
            );
            return ssh;
        },
    };
    for (const dev of devices) {
        const [vendor, device] = dev.vendorDeviceId.split(":");
        write(`sys/bus/pci/devices/${dev.address}/vendor`, `0x${vendor}\n`);
        write(`sys/bus/pci/devices/${dev.address}/device`, `0x${device}\n`);
        const [subVendor, subDevice] = dev.subsystemId.split(":");
        write(`sys/bus/pci/devices/${dev.address}/subsystem_vendor`, `0x${subVendor}\n`);
        write(`sys/bus/pci/devices/${dev.address}/subsystem_device`, `0x${subDevice}\n`);
        fs.mkdirSync(file(`sys/kernel/iommu_groups/${dev.iommuGroup}/devices`), { recursive: true });
        fs.symlinkSync(
            `../../../../kernel/iommu_groups/${dev.iommuGroup}`,
            file(`sys/bus/pci/devices/${dev.address}/iommu_group`),
        );
        sb.bind(dev.address, dev.driver);
    }
    return sb;
}

/** Path of a tool on PATH, or undefined. */
export function which(tool: string): string | undefined {
    try {
        // Administrators' tools (nft, ip) live in sbin, which a normal user's PATH leaves out.
        return (
            execFileSync("bash", ["-c", `PATH="$PATH:/usr/sbin:/sbin" command -v ${tool}`], {
                encoding: "utf8",
            }).trim() || undefined
        );
    } catch {
        return undefined;
    }
}

/**
 * A validator the tests need (shellcheck, cloud-init). `.ci/run` installs them, and under CI a
 * missing one fails the run; on a workstation without it the dependent tests are skipped, loudly.
 */
export function validator(tool: string): string | undefined {
    const found = which(tool);
    if (!found && process.env["CI"]) {
        throw new Error(`${tool} is not installed; .ci/run installs it (see README, "Tests")`);
    }
    if (!found)
        console.warn(`${tool} not found: its checks are skipped here (CI runs them; \`bash .ci/run\` installs it)`);
    return found;
}

/** Writes scripts to a temporary folder and runs shellcheck (style and up) on them; throws its findings. */
export function shellcheckScripts(shellcheck: string, scripts: Record<string, string>): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-sc-"));
    const files = Object.entries(scripts).map(([name, text]) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return file;
    });
    execFileSync(shellcheck, ["--severity=style", "--shell=bash", ...files], { encoding: "utf8" });
}
