// How the harness reaches a booted system: a loopback port forwarded into the lab, OpenSSH's arguments for the system's
// throwaway keys, and two kinds of connection. A set-up gets a new connection, as `up` opens one per remote command; the
// test's own checks share one multiplexed connection per system.

import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import type { Lab } from "./lab";

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Forwards 127.0.0.1:<port> to address:22 inside the lab (socat in the lab's namespace per connection). */
export async function forward(lab: Lab, address: string): Promise<{ port: number; close(): void }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
        sockets.add(socket);
        const leg = spawn("ip", ["netns", "exec", lab.name, "socat", "STDIO", `TCP:${address}:22`], {
            stdio: ["pipe", "pipe", "ignore"],
        });
        socket.pipe(leg.stdin);
        leg.stdout.pipe(socket);
        const end = () => {
            sockets.delete(socket);
            socket.destroy();
            leg.kill();
        };
        socket.on("close", end);
        socket.on("error", end);
        leg.on("exit", end);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
        port,
        close: () => {
            for (const s of sockets) s.destroy();
            server.close();
        },
    };
}

/** Runs a command with `stdin`, collecting its exit code and output. */
export function run(cmd: string, args: string[], stdin?: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
        child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(stdin ?? "");
    });
}

/** OpenSSH's arguments for root on the system behind `port`, with the system's throwaway keys; `extra` options last. */
export function sshArgs(dir: string, port: number, extra: string[] = []): string[] {
    const options = {
        UserKnownHostsFile: path.join(dir, "known_hosts"),
        StrictHostKeyChecking: "yes",
        BatchMode: "yes",
        LogLevel: "ERROR",
        ConnectTimeout: "5",
    };
    const o = Object.entries(options).flatMap(([k, v]) => ["-o", `${k}=${v}`]);
    return ["-p", String(port), "-i", path.join(dir, "client"), ...o, ...extra, "root@127.0.0.1"];
}

/** The shared connection's socket (its master starts once the system has booted; without it ssh dials anew). */
export const muxPath = (dir: string) => path.join(dir, "mux");

/** Runs ssh with `args` and waits for it to exit, not for its output to close: a master it forks keeps that open. */
function sshExit(args: string[], seconds: number): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn("ssh", args, { stdio: "ignore" });
        const timer = setTimeout(() => child.kill(), seconds * 1000);
        child.on("error", reject);
        child.on("exit", (code) => {
            clearTimeout(timer);
            resolve(code ?? -1);
        });
    });
}

/**
 * Starts the shared connection: a master that forks into the background (-f) and runs no command (-N), logging to a
 * file. Not synchronous: the connection goes through this process's own forward.
 */
export async function startMux(dir: string, port: number): Promise<void> {
    const log = path.join(dir, "mux.log");
    const code = await sshExit(
        sshArgs(dir, port, ["-M", "-N", "-f", "-E", log, "-o", `ControlPath=${muxPath(dir)}`]),
        15,
    );
    if (code !== 0) {
        const why = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
        throw new Error(`the shared SSH connection did not start (ssh exited ${code}): ${why}`);
    }
}

/** Ends the shared connection, if it started (the master also ends by itself when the system's sshd does). */
export async function stopMux(dir: string, port: number): Promise<void> {
    if (fs.existsSync(muxPath(dir)))
        await sshExit(sshArgs(dir, port, ["-O", "exit", "-o", `ControlPath=${muxPath(dir)}`]), 5);
}
