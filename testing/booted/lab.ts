// A private test network for booted Debian systems: a network namespace holding one bridge that carries
// the networks the plan's guests and node live on (10.10.10.0/24, 192.168.1.0/24...), each with its
// gateway address on the bridge, so every system keeps the address the stack gives it. Nothing of it
// reaches the machine's own network: the lab's only way out is an uplink veth, masqueraded twice (lab,
// then host), which is how the systems reach Debian's archive. Labs are torn down by stop(), and a lab
// whose owner died is swept by the next one. Needs root, iproute2 and nft.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** One network on the lab's bridge: the gateway's address and the prefix length, e.g. 10.10.10.1/24. */
export interface LabNetwork {
    gateway: string;
    prefix: number;
}

export interface Lab {
    /** The network namespace's name (`ip netns`). */
    readonly name: string;
    /** The bridge every system's veth joins, inside the namespace. */
    readonly bridge: "br0";
    /** Runs a command inside the lab's network namespace (host file system, lab network). */
    exec(cmd: string, args: string[], input?: string): string;
    /**
     * A bare network namespace on the bridge with this address, standing for a machine that is not booted
     * (the AI VM as a database client, a LAN host): `exec` runs host programs from that address.
     */
    addHost(
        address: string,
        prefix: number,
        gateway: string,
    ): { exec: (this: void, cmd: string, args: string[]) => string };
    stop(): void;
}

const STATE_DIR = "/run/ai-dualstack-lab";

function sh(cmd: string, args: string[], input?: string): string {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], input });
}

function quiet(cmd: string, args: string[]): void {
    try {
        sh(cmd, args);
    } catch {
        // already gone
    }
}

/** Whether a process with this pid still runs (a test run that owns a lab or a booted system). */
export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/**
 * Runs `fn` holding the labs' lock (a directory: mkdir is atomic), so that a sweep and a claim never interleave.
 * Without it, two processes sweeping the same dead lab could have the second delete the namespace that a third
 * had claimed and built under the freed id in between (seen as a veth that vanished from its lab in a
 * clean-clone CI run with other test runs beside it). A holder killed inside leaves the lock behind: it is
 * broken once older than any sweep takes.
 */
function locked<T>(fn: () => T): T {
    fs.mkdirSync(STATE_DIR, { recursive: true });
    const lock = path.join(STATE_DIR, "lock");
    for (const deadline = Date.now() + 60_000; ;) {
        try {
            fs.mkdirSync(lock);
            break;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
            try {
                if (Date.now() - fs.statSync(lock).mtimeMs > 30_000) fs.rmdirSync(lock);
            } catch {
                // released meanwhile
            }
            if (Date.now() > deadline) throw new Error(`the labs' lock ${lock} has been held for over 60 s`);
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        }
    }
    try {
        return fn();
    } finally {
        fs.rmdirSync(lock);
    }
}

/** Removes what labs of dead test processes left: their namespaces, host veths and nft tables. */
export function sweepLabs(): void {
    locked(sweepDeadLabs);
}

function sweepDeadLabs(): void {
    if (!fs.existsSync(STATE_DIR)) return;
    for (const file of fs.readdirSync(STATE_DIR)) {
        const m = /^(aidslab\d+)\.pid$/.exec(file);
        if (!m) continue;
        const pid = Number(fs.readFileSync(path.join(STATE_DIR, file), "utf8"));
        if (alive(pid)) continue;
        teardown(m[1] as string);
    }
}

function teardown(name: string): void {
    const id = name.replace("aidslab", "");
    // Deleting the namespace deletes the veths in it; their host ends go with them.
    for (const ns of sh("ip", ["netns", "list"]).split("\n")) {
        const nsName = ns.split(" ")[0] ?? "";
        if (nsName === name || nsName.startsWith(`${name}h`)) quiet("ip", ["netns", "delete", nsName]);
    }
    quiet("ip", ["link", "delete", `aidsup${id}`]);
    quiet("nft", ["delete", "table", "ip", `aids_${name}`]);
    fs.rmSync(path.join(STATE_DIR, `${name}.pid`), { force: true });
}

/** The uplink's /30 for lab `id`: 172.31.<id/64>.<4·(id%64)>. */
function uplink(id: number): { host: string; lab: string; net: string } {
    const third = Math.floor(id / 64);
    const base = (id % 64) * 4;
    return {
        net: `172.31.${third}.${base}/30`,
        host: `172.31.${third}.${base + 1}`,
        lab: `172.31.${third}.${base + 2}`,
    };
}

/** A bare namespace with one veth on the lab's bridge (Lab.addHost). */
function addHost(lab: string, id: number, n: number, cidr: string, gateway: string) {
    const ns = `${lab}h${n}`;
    const [a, b] = [`aidsh${id}x${n}`, `aidsp${id}x${n}`];
    sh("ip", ["netns", "add", ns]);
    sh("ip", ["link", "add", a, "type", "veth", "peer", "name", b]);
    sh("ip", ["link", "set", a, "netns", ns]);
    sh("ip", ["link", "set", b, "netns", lab]);
    sh("ip", ["-n", lab, "link", "set", b, "master", "br0", "up"]);
    sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
    sh("ip", ["-n", ns, "addr", "add", cidr, "dev", a]);
    sh("ip", ["-n", ns, "link", "set", a, "up"]);
    sh("ip", ["-n", ns, "route", "add", "default", "via", gateway]);
    return { exec: (cmd: string, args: string[]) => sh("ip", ["netns", "exec", ns, cmd, ...args]) };
}

/** Creates a lab carrying `networks`. Call stop() when done (in afterAll). */
/** Claims the lowest free lab id (its pid file, created exclusively, so parallel workers get different ones). */
function claimId(): number {
    fs.mkdirSync(STATE_DIR, { recursive: true });
    for (let id = 1; id <= 250; id++) {
        try {
            fs.writeFileSync(path.join(STATE_DIR, `aidslab${id}.pid`), String(process.pid), { flag: "wx" });
            return id;
        } catch {
            // taken
        }
    }
    throw new Error(`no free lab id in ${STATE_DIR}`);
}

/** The namespace, its bridge with each network's gateway, and the doubly masqueraded uplink. */
function build(name: string, id: number, networks: LabNetwork[]): void {
    const up = uplink(id);
    const hostUp = `aidsup${id}`;
    sh("ip", ["netns", "add", name]);
    sh("ip", ["-n", name, "link", "set", "lo", "up"]);
    sh("ip", ["-n", name, "link", "add", "br0", "type", "bridge"]);
    sh("ip", ["-n", name, "link", "set", "br0", "up"]);
    for (const n of networks) sh("ip", ["-n", name, "addr", "add", `${n.gateway}/${n.prefix}`, "dev", "br0"]);
    sh("ip", ["netns", "exec", name, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    sh("ip", ["link", "add", hostUp, "type", "veth", "peer", "name", "up0", "netns", name]);
    sh("ip", ["addr", "add", `${up.host}/30`, "dev", hostUp]);
    sh("ip", ["link", "set", hostUp, "up"]);
    sh("ip", ["-n", name, "addr", "add", `${up.lab}/30`, "dev", "up0"]);
    sh("ip", ["-n", name, "link", "set", "up0", "up"]);
    sh("ip", ["-n", name, "route", "add", "default", "via", up.host]);
    const nat = (table: string, match: string) =>
        `table ip ${table} {\n chain post {\n  type nat hook postrouting priority 100\n  ${match} masquerade\n }\n}\n`;
    sh("ip", ["netns", "exec", name, "nft", "-f", "-"], nat("aids_lab", `oifname "up0"`));
    // The host must forward the uplink's traffic (ip_forward stays on); its masquerade table goes with the lab.
    sh("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    sh("nft", ["-f", "-"], nat(`aids_${name}`, `ip saddr ${up.net} oifname != "${hostUp}"`));
}

export function startLab(networks: LabNetwork[]): Lab {
    const id = locked(() => {
        sweepDeadLabs();
        return claimId();
    });
    const name = `aidslab${id}`;
    try {
        build(name, id, networks);
    } catch (err) {
        teardown(name);
        throw err;
    }
    let hosts = 0;
    return {
        name,
        bridge: "br0",
        exec: (cmd, args, input) => sh("ip", ["netns", "exec", name, cmd, ...args], input),
        addHost: (address, prefix, gateway) => addHost(name, id, ++hosts, `${address}/${prefix}`, gateway),
        stop: () => teardown(name),
    };
}
