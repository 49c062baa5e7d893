// A real OpenSSH server on 127.0.0.1 for the e2e suites: Debian's sshd with a throwaway host key and
// one authorized client key, started by the test itself and stopped after it. Its sessions get the
// environment the test gives (SetEnv), so scripts run against a sandbox and stand-in tools.

import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { freePort } from "./ollamaServer";

export interface SshServer {
    host: "127.0.0.1";
    port: number;
    user: string;
    /** The client's private key (OpenSSH format) that the server accepts. */
    privateKey: string;
    /** The server's authorized_keys file (the client's key is its first line); a test may add restricted keys. */
    authorizedKeys: string;
    /** The server's host key as `ssh-keyscan` prints it, without the host name. */
    hostKey: string;
    /** The server's own log, for failure messages. */
    log(): string;
    stop(): Promise<void>;
}

/** Where Debian puts sshd; undefined when openssh-server is not installed. */
export function findSshd(): string | undefined {
    return ["/usr/sbin/sshd", "/usr/bin/sshd"].find((p) => fs.existsSync(p));
}

function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
    const deadline = Date.now() + 10_000;
    return new Promise((resolve, reject) => {
        const attempt = () => {
            if (child.exitCode !== null) return reject(new Error(`sshd exited:\n${log()}`));
            const socket = net.connect(port, "127.0.0.1", () => {
                socket.destroy();
                resolve();
            });
            socket.once("error", () => {
                socket.destroy();
                if (Date.now() > deadline) reject(new Error(`sshd did not listen on ${port}:\n${log()}`));
                else setTimeout(attempt, 100);
            });
        };
        attempt();
    });
}

/** Starts sshd on a free loopback port; `env` reaches every session (sshd's SetEnv). Needs root. */
export async function startSshServer(sshd: string, env: Record<string, string> = {}): Promise<SshServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-sshd-"));
    const keygen = (file: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
    keygen(path.join(dir, "host"));
    keygen(path.join(dir, "client"));
    fs.copyFileSync(path.join(dir, "client.pub"), path.join(dir, "authorized_keys"));
    fs.mkdirSync("/run/sshd", { recursive: true }); // sshd's privilege separation directory
    const port = await freePort();
    const setEnv = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const config = [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${path.join(dir, "host")}`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        ...(setEnv.length > 0 ? [`SetEnv ${setEnv.join(" ")}`] : []),
    ];
    fs.writeFileSync(path.join(dir, "sshd_config"), `${config.join("\n")}\n`);
    let output = "";
    const child = spawn(sshd, ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr?.on("data", (b: Buffer) => (output += b.toString()));
    const log = () => output;
    await waitForPort(port, child, log);
    const [type, key] = fs.readFileSync(path.join(dir, "host.pub"), "utf8").trim().split(/\s+/);
    return {
        host: "127.0.0.1",
        port,
        user: os.userInfo().username,
        privateKey: fs.readFileSync(path.join(dir, "client"), "utf8"),
        authorizedKeys: path.join(dir, "authorized_keys"),
        hostKey: `${type ?? ""} ${key ?? ""}`,
        log,
        async stop() {
            if (child.exitCode === null) {
                const exited = new Promise((r) => child.once("exit", r));
                child.kill("SIGTERM");
                await exited;
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
