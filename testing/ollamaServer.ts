// Starts a real Ollama server on loopback with a throwaway model store, and loads the tiny test
// model into it: what the gate's integration tests and bench/gate.ts run against. The binary comes
// from .ci/ollama.sh (built from Ollama's Go module), $AIDS_OLLAMA_BIN, or PATH.

import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { tinyLlamaGguf, tinyModelfile, TinyModelOptions } from "./tinyModel";

export const OLLAMA_VERSION = "v0.11.4";

/**
 * The CPU threads the tests' models get (their num_thread). ggml's threads wait for each other by spinning, so a
 * model given both cores, while jest's other worker keeps one of them busy, runs many times slower than on one
 * thread: modelThroughput.live took 48 s beside two busy loops with Ollama's default, 14 s with one thread
 * (measured on this project's two-core machine). Benches leave it out: they measure a quiet machine.
 */
export const TEST_THREADS = 1;

/** Where to find the ollama binary, or undefined. */
export function findOllama(): string | undefined {
    const candidates = [
        process.env["AIDS_OLLAMA_BIN"],
        path.join(os.homedir(), ".cache", "ai-dualstack", `ollama-${OLLAMA_VERSION}`, "bin", "ollama"),
        ...(process.env["PATH"] ?? "").split(path.delimiter).map((d) => path.join(d, "ollama")),
    ];
    return candidates.find((c): c is string => c !== undefined && c !== "" && fs.existsSync(c));
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as net.AddressInfo;
            srv.close(() => resolve(port));
        });
    });
}

export interface OllamaServer {
    endpoint: string;
    bin: string;
    /** The server's model store (OLLAMA_MODELS), a temporary folder. */
    models: string;
    /** Runs the ollama CLI against this server. */
    cli(args: string[], cwd?: string): Promise<string>;
    /** Writes a tiny random-weights GGUF and `ollama create`s it under `name`, with `threads` as its num_thread. */
    createTinyModel(name: string, options?: TinyModelOptions & { threads?: number }): Promise<void>;
    /** The server's log so far (for failure messages). */
    log(): string;
    stop(): Promise<void>;
}

async function waitReady(endpoint: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`ollama serve exited with ${child.exitCode}:\n${log()}`);
        try {
            const res = await fetch(`${endpoint}/api/version`, { signal: AbortSignal.timeout(1000) });
            if (res.ok) return;
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`ollama serve did not answer on ${endpoint} within ${timeoutMs} ms:\n${log()}`);
}

/** Starts `ollama serve` on 127.0.0.1 at a free port, with its own HOME and model store. */
/** `ollama serve`, its output kept (the last 100-200 kB) for error messages. */
function serve(bin: string, env: Record<string, string>): { child: ChildProcess; log: () => string } {
    let output = "";
    const child = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
    const collect = (b: Buffer) => {
        output += b.toString();
        if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    return { child, log: () => output };
}

export async function startOllama(bin: string, env: Record<string, string> = {}): Promise<OllamaServer> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-ollama-"));
    const models = path.join(root, "models");
    fs.mkdirSync(models);
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const endpoint = `http://${host}`;
    const childEnv = {
        PATH: process.env["PATH"] ?? "/usr/bin:/bin",
        HOME: root,
        OLLAMA_HOST: host,
        OLLAMA_MODELS: models,
        OLLAMA_KEEP_ALIVE: "10m",
        OLLAMA_NOPRUNE: "1",
        ...env,
    };
    const { child, log } = serve(bin, childEnv);
    try {
        await waitReady(endpoint, child, log, 30_000);
    } catch (err) {
        child.kill("SIGKILL");
        throw err;
    }

    const run = promisify(execFile);
    const cli = async (args: string[], cwd = root) => {
        const pending = run(bin, args, { env: childEnv, cwd, maxBuffer: 16 * 2 ** 20 });
        // Some commands (run) read stdin when it is not a terminal: close it.
        pending.child.stdin?.end();
        return (await pending).stdout;
    };

    return {
        endpoint,
        bin,
        models,
        cli,
        async createTinyModel(name, options) {
            const gguf = path.join(root, `${name.replace(/[^a-z0-9]/gi, "_")}.gguf`);
            fs.writeFileSync(gguf, tinyLlamaGguf(options));
            fs.writeFileSync(`${gguf}.Modelfile`, tinyModelfile(gguf, options?.threads));
            await cli(["create", name, "-f", `${gguf}.Modelfile`]);
        },
        log,
        async stop() {
            if (child.exitCode === null) {
                const exited = new Promise((r) => child.once("exit", r));
                child.kill("SIGTERM");
                const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
                await exited;
                clearTimeout(timer);
            }
            fs.rmSync(root, { recursive: true, force: true });
        },
    };
}
