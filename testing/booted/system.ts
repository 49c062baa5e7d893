// A booted Debian system for the set-up scripts' tests: systemd as PID 1 (`systemd-nspawn -b`) on an
// overlay of a cached root file system (rootfs.sh), with its own veth on a lab's bridge (lab.ts) and the
// address the stack gives the guest, sshd with throwaway host and client keys, and a loopback port that
// forwards to its sshd, so the test reaches it the way the components do: root over SSH with a private
// key (`connection`, typed as @pulumi/command's). The root file system cache is never written: each
// system's changes land in its overlay's upper directory, which is also how the idempotence check sees
// every file a script wrote. stop() shuts it down and removes everything; so does a failed boot.
//
// Booted systems run privileged (a user-namespaced boot fails on this kernel's cgroup layout, see
// ../shared/notes/booted-systems.md), so an unprivileged container's restrictions are not reproduced.

import type * as command from "@pulumi/command";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../../lib/paths";
import { networkUnit, NET_UNIT_FAILED, unitJournal } from "./guestNet";
import { forward, muxPath, run, RunResult, sshArgs, startMux, stopMux } from "./ssh";
import { Lab } from "./lab";
import { RUN_DIR, sweepSystems } from "./sweep";

export type Suite = "trixie" | "bookworm";
export const SUITES: readonly Suite[] = ["trixie", "bookworm"];
/** Which Proxmox VE major each suite stands for, for test titles. */
export const SUITE_LABEL: Record<Suite, string> = {
    trixie: "Debian 13 (Proxmox VE 9)",
    bookworm: "Debian 12 (Proxmox VE 8.4)",
};

export type { RunResult } from "./ssh";

export interface BootOptions {
    suite: Suite;
    /** The address the stack gives this guest or node, and its prefix length and gateway on the lab's bridge. */
    address: string;
    prefix: number;
    gateway: string;
    hostname: string;
    /**
     * The name of the system's network interface (nspawn's host0, renamed at boot): eth0 by default, as
     * the stack names a container's (components/serviceLxc/serviceLxc.ts) and the scripts' rules match it.
     */
    interface?: string;
    /** Extra systemd-nspawn arguments, e.g. a device bind. (/dev/net/tun is there already: nspawn makes it.) */
    nspawnArgs?: string[];
}

export interface BootedSystem {
    readonly suite: Suite;
    readonly address: string;
    readonly hostname: string;
    /** SSH to this system as the components' remote commands dial it (through a loopback forward). */
    readonly connection: command.types.input.remote.ConnectionArgs & { host: string; port: number; privateKey: string };
    /** The overlay's upper directory: every file written since boot, seen from the host. */
    readonly changes: string;
    /** The system's root as the host sees it (the merged overlay). */
    readonly root: string;
    /**
     * Runs `command` as root with `stdin` over a new SSH connection, as `up` opens one for each remote command (a
     * rendered script goes to `bash -s`). The set-ups run this way (runSetup).
     */
    login(command: string, stdin?: string): Promise<RunResult>;
    /**
     * Runs `command` as root with `stdin` over the test's own connection to the system, one per system and shared by
     * its checks (OpenSSH multiplexing: a check costs no key exchange, 0.1 CPU-s each, and there are hundreds).
     */
    ssh(command: string, stdin?: string): Promise<RunResult>;
    /** ssh(), failing with the output when the command does. */
    sh(command: string, stdin?: string): Promise<string>;
    /** The booted system's console output so far (systemd's boot messages), for failure messages. */
    console(): string;
    stop(): Promise<void>;
}

/** The cached root file system for `suite`, built on first use (about two minutes per suite). */
export function rootfs(suite: Suite): string {
    const script = path.join(PROJECT_ROOT, "testing/booted/rootfs.sh");
    return execFileSync("bash", [script, suite], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/** Why booted systems cannot run here, or undefined when they can (root, nspawn, debootstrap, socat). */
export function bootedSystemsUnavailable(): string | undefined {
    if (process.getuid?.() !== 0) return "booted systems need root";
    for (const tool of ["systemd-nspawn", "debootstrap", "socat", "nft", "ssh"]) {
        try {
            execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
        } catch {
            return `${tool} is missing (.ci/run installs it)`;
        }
    }
    return undefined;
}

function wait(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Mounts the overlay at dir/root and writes what this one system needs: keys, names, its address. */
function prepareRoot(dir: string, opts: BootOptions): void {
    const [upper, work, root] = ["upper", "work", "root"].map((d) => path.join(dir, d)) as [string, string, string];
    for (const d of [upper, work, root]) fs.mkdirSync(d, { recursive: true });
    const lower = rootfs(opts.suite);
    execFileSync("mount", [
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
        root,
    ]);
    // Throwaway keys: the system's host key, and the client key root accepts. Ed25519 only: the RSA key `ssh-keygen -A`
    // adds takes 1.2 CPU-s per system (measured here), and sshd skips the key types it has no file for.
    const hostKeyFile = path.join(root, "etc/ssh/ssh_host_ed25519_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", opts.hostname, "-f", hostKeyFile]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client")]);
    fs.mkdirSync(path.join(root, "root/.ssh"), { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(dir, "client.pub"), path.join(root, "root/.ssh/authorized_keys"));
    const hostKey = fs.readFileSync(`${hostKeyFile}.pub`, "utf8").trim();
    fs.writeFileSync(path.join(dir, "known_hosts"), `[127.0.0.1]:* ${hostKey}\n`);
    fs.writeFileSync(path.join(root, "etc/hostname"), `${opts.hostname}\n`);
    fs.writeFileSync(path.join(root, "etc/hosts"), `127.0.0.1 localhost\n${opts.address} ${opts.hostname}\n`);
    fs.copyFileSync("/etc/resolv.conf", path.join(root, "etc/resolv.conf"));
    fs.writeFileSync(path.join(root, "etc/systemd/system/aids-test-net.service"), networkUnit(opts));
    fs.symlinkSync(
        "/etc/systemd/system/aids-test-net.service",
        path.join(root, "etc/systemd/system/multi-user.target.wants/aids-test-net.service"),
    );
}

/**
 * Moves nspawn's host end of the veth (ve-<machine>) into the lab and onto its bridge, once nspawn is done with it:
 * nspawn looks the veth up by name right after making it, and fails ("Failed to resolve interface ve-…: No such
 * device", seen in CI) if it has moved already. The guest's first console line (systemd's banner) comes after
 * nspawn's network set-up, so the move waits for it (10 s at most).
 */
async function joinLab(lab: Lab, machine: string, nspawn: ChildProcess, consoleOut: () => string): Promise<void> {
    const veth = `ve-${machine}`;
    for (let i = 0; consoleOut() === "" && i < 100 && nspawn.exitCode === null; i++) await wait(100);
    for (let i = 0; ; i++) {
        try {
            execFileSync("ip", ["link", "set", veth, "netns", lab.name], { stdio: "ignore" });
            break;
        } catch {
            if (i > 100 || nspawn.exitCode !== null)
                throw new Error(`systemd-nspawn made no ${veth}:\n${consoleOut()}`);
            await wait(100);
        }
    }
    try {
        execFileSync("ip", ["-n", lab.name, "link", "set", veth, "master", lab.bridge, "up"], { stdio: "pipe" });
    } catch (err) {
        // The veth goes when the container does: a system that stopped at once says why on its console, which
        // arrives when nspawn exits (give it a moment), and a lab that was torn down shows in `ip netns`.
        if (nspawn.exitCode === null) await Promise.race([new Promise((r) => nspawn.once("exit", r)), wait(3_000)]);
        const labState = fs.existsSync(`/run/netns/${lab.name}`) ? "still there" : "gone";
        throw new BootRace(
            `${veth} is gone from lab ${lab.name} (${labState}); systemd-nspawn ${nspawn.exitCode === null ? "still runs" : `exited ${nspawn.exitCode}`}: ${String(err)}\n${consoleOut()}`,
        );
    }
}

/**
 * A boot lost to a race seen in CI, which bootSystem tries once more: the system's veth vanished between nspawn making it
 * and the lab's bridge taking it, or the unit that gives the guest its address failed (its error is on the console).
 */
class BootRace extends Error {}

/** Stops nspawn (SIGTERM powers the system off; SIGKILL after 15 s), unmounts and removes the system's dir. */
async function teardown(dir: string, nspawn: ChildProcess | undefined, fwd: { close(): void } | undefined) {
    fwd?.close();
    if (nspawn && nspawn.exitCode === null && nspawn.signalCode === null) {
        const exited = new Promise((resolve) => nspawn.once("exit", resolve));
        nspawn.kill("SIGTERM");
        await Promise.race([exited, wait(15_000)]);
        if (nspawn.exitCode === null && nspawn.signalCode === null) nspawn.kill("SIGKILL");
        await Promise.race([exited, wait(5_000)]);
    }
    try {
        execFileSync("umount", ["-l", path.join(dir, "root")], { stdio: "ignore" });
    } catch {
        // not mounted
    }
    fs.rmSync(dir, { recursive: true, force: true });
}

/** Waits until sshd answers and systemd is done starting (running, or degraded: the test reads which unit failed). */
async function waitBooted(system: BootedSystem, nspawn: ChildProcess): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
        const r = await system.login("systemctl is-system-running --wait");
        if (["running", "degraded"].includes(r.stdout.trim())) return;
        // Without its address the system is out of reach for good: no use waiting out the deadline.
        if (r.code !== 0 && NET_UNIT_FAILED.test(system.console())) {
            const why = unitJournal(nspawn, "aids-test-net.service");
            throw new BootRace(`${system.hostname} (${system.suite}): its network unit failed:\n${why}`);
        }
        if (Date.now() > deadline || nspawn.exitCode !== null) {
            throw new Error(
                `${system.hostname} (${system.suite}) did not boot: ${r.stdout}${r.stderr}\n${system.console()}`,
            );
        }
        await wait(500);
    }
}

// Boots a system on `lab`; resolves once sshd answers and systemd finished starting up. A boot lost to a race (BootRace)
// gets one more, with a warning.
export async function bootSystem(lab: Lab, opts: BootOptions): Promise<BootedSystem> {
    try {
        return await bootOnce(lab, opts);
    } catch (err) {
        if (!(err instanceof BootRace)) throw err;
        console.warn(`${opts.hostname} (${opts.suite}): booting again once: ${err.message}`);
        return bootOnce(lab, opts);
    }
}

async function bootOnce(lab: Lab, opts: BootOptions): Promise<BootedSystem> {
    // The machine name is short: nspawn names the host's veth end "ve-<machine>", which must fit 15 characters.
    const machine = `a${crypto.randomBytes(4).toString("hex")}`;
    const dir = path.join(RUN_DIR, machine);
    let nspawn: ChildProcess | undefined;
    let fwd: { port: number; close(): void } | undefined;
    let consoleOut = "";
    sweepSystems();
    try {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "owner.tmp"), String(process.pid));
        fs.renameSync(path.join(dir, "owner.tmp"), path.join(dir, "owner"));
        prepareRoot(dir, opts);
        const args = ["--register=no", "--keep-unit", "--quiet", `--machine=${machine}`, "--network-veth"];
        nspawn = spawn("systemd-nspawn", [...args, `--directory=${dir}/root`, ...(opts.nspawnArgs ?? []), "--boot"], {
            stdio: ["ignore", "pipe", "pipe"],
        });
        fs.writeFileSync(path.join(dir, "nspawn.pid"), String(nspawn.pid ?? 0));
        nspawn.stdout?.on("data", (b: Buffer) => (consoleOut += b.toString()));
        nspawn.stderr?.on("data", (b: Buffer) => (consoleOut += b.toString()));
        await joinLab(lab, machine, nspawn, () => consoleOut);
        fwd = await forward(lab, opts.address);
        const port = fwd.port;
        const fresh = sshArgs(dir, port);
        const shared = sshArgs(dir, port, ["-o", `ControlPath=${muxPath(dir)}`, "-o", "ControlMaster=no"]);
        const system: BootedSystem = {
            suite: opts.suite,
            address: opts.address,
            hostname: opts.hostname,
            connection: {
                host: "127.0.0.1",
                port: fwd.port,
                user: "root",
                privateKey: fs.readFileSync(path.join(dir, "client"), "utf8"),
            },
            changes: path.join(dir, "upper"),
            root: path.join(dir, "root"),
            login: (cmd, stdin) => run("ssh", [...fresh, cmd], stdin),
            ssh: (cmd, stdin) => run("ssh", [...shared, cmd], stdin),
            async sh(cmd, stdin) {
                const r = await run("ssh", [...shared, cmd], stdin);
                if (r.code === 0) return r.stdout;
                throw new Error(
                    `${opts.hostname} (${opts.suite}): '${cmd}' exited ${r.code}\n${r.stdout}\n${r.stderr}`,
                );
            },
            console: () => consoleOut,
            stop: async () => {
                await stopMux(dir, port);
                await teardown(dir, nspawn, fwd);
            },
        };
        await waitBooted(system, nspawn);
        await startMux(dir, port);
        return system;
    } catch (err) {
        await teardown(dir, nspawn, fwd);
        throw err;
    }
}
