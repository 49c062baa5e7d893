// The pinned Open WebUI release, run on loopback for `npm run test:webui`: the virtualenv .ci/webui.sh builds
// (PyPI's open-webui at the private stack's image tag), started with `open-webui serve`; and a Redis server
// beside it, as the private stack's Open WebUI uses one (REDIS_URL, WEBSOCKET_MANAGER=redis).

import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "./ollamaServer";

const ROOT = path.join(__dirname, "..");
export const WEBUI_SCRIPT = path.join(ROOT, ".ci", "webui.sh");

export interface WebuiVenv {
    /** The folder .ci/webui.sh printed. */
    dir: string;
    python: string;
    /** The console script `open-webui`, run with the venv's python (its #! line names the folder it was built in). */
    cli: string;
}

/** The folder .ci/webui.sh built: $AIDS_WEBUI_VENV, else the one `.ci/webui.sh --check` finds ready; or undefined. */
export function findWebui(): WebuiVenv | undefined {
    let dir = process.env["AIDS_WEBUI_VENV"];
    if (!dir) {
        const check = spawnSync("bash", [WEBUI_SCRIPT, "--check"], { encoding: "utf8" });
        dir = check.status === 0 ? check.stdout.trim() : undefined;
    }
    if (!dir || !fs.existsSync(path.join(dir, "ready"))) return undefined;
    return { dir, python: path.join(dir, "venv", "bin", "python"), cli: path.join(dir, "venv", "bin", "open-webui") };
}

/** The open-webui version installed in the venv, as pip recorded it. */
export function installedVersion(venv: WebuiVenv): string {
    const code = "import importlib.metadata as m; print(m.version('open-webui'))";
    return execFileSync(venv.python, ["-c", code], { encoding: "utf8" }).trim();
}

export interface Process {
    url: string;
    log(): string;
    stop(): Promise<void>;
}

/** A child in a process group of its own, its output kept (the last 200 kB); stop ends the whole group. */
function track(child: ChildProcess): Omit<Process, "url"> {
    let out = "";
    const collect = (b: Buffer) => (out = (out + b.toString()).slice(-200_000));
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const group = (signal: NodeJS.Signals) => {
        try {
            process.kill(-(child.pid as number), signal);
        } catch {
            // gone already
        }
    };
    return {
        log: () => out,
        stop: async () => {
            if (child.exitCode === null && child.signalCode === null) {
                const exited = new Promise((r) => child.once("exit", r));
                group("SIGTERM");
                const timer = setTimeout(() => group("SIGKILL"), 10_000);
                await exited;
                clearTimeout(timer);
            }
            group("SIGKILL"); // anything it started and left behind
        },
    };
}

/** Polls until ready() holds; fails early when the child exits, and after timeoutMs with its log. */
async function until(
    what: string,
    child: ChildProcess,
    t: Omit<Process, "url">,
    timeoutMs: number,
    ready: () => Promise<boolean>,
) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${t.log().slice(-5000)}`);
        if (await ready().catch(() => false)) return;
        if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${t.log().slice(-5000)}`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

/** redis-server on a free loopback port, with this password, nothing saved to disk. */
export async function startRedis(password: string): Promise<Process> {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-redis-"));
    const args = ["--bind", "127.0.0.1", "--port", String(port), "--requirepass", password];
    const child = spawn("redis-server", [...args, "--save", "", "--appendonly", "no", "--dir", dir], {
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
    });
    const t = track(child);
    await until("redis-server", child, t, 30_000, () => Promise.resolve(/Ready to accept connections/.test(t.log())));
    return {
        url: `redis://127.0.0.1:${port}`,
        log: t.log,
        stop: async () => {
            await t.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** `open-webui serve` on a free loopback port with exactly this environment (and PATH), until /health answers. */
export async function startWebui(venv: WebuiVenv, env: Record<string, string>, timeoutMs: number): Promise<Process> {
    const port = await freePort();
    const child = spawn(venv.python, [venv.cli, "serve", "--host", "127.0.0.1", "--port", String(port)], {
        env: { PATH: `${path.dirname(venv.python)}:${process.env["PATH"] ?? "/usr/bin:/bin"}`, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
    });
    const t = track(child);
    const url = `http://127.0.0.1:${port}`;
    try {
        await until("open-webui", child, t, timeoutMs, async () => {
            return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok;
        });
    } catch (err) {
        await t.stop();
        throw err;
    }
    return { url, ...t };
}
