// A real Pulumi engine for the e2e tests: the CLI and plugins that .ci/pulumi-toolchain.sh builds, driven through
// the Automation API with an inline program, a file backend in a temporary folder and a throwaway passphrase
// (testing/engineToolchain.ts finds them).

import {
    ConfigMap,
    EngineEvent,
    LocalWorkspace,
    OpMap,
    PulumiCommand,
    PulumiFn,
    Stack,
} from "@pulumi/pulumi/automation";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Toolchain } from "./engineToolchain";
import { flattenSecret, isObject, parseMaybe, writeProject } from "./engineProject";

/** One resource step the engine reported (create, same, update, delete...). */
export interface EngineStep {
    op: string;
    type: string;
    urn: string;
}

export interface EngineDiagnostic {
    severity: string;
    message: string;
    urn?: string;
}

export interface PolicyViolation {
    policyName: string;
    /** "mandatory" or "advisory". */
    enforcementLevel: string;
    message: string;
    urn?: string;
}

/** What one engine operation did, as its event stream and result told. */
export interface EngineRun {
    steps: EngineStep[];
    diagnostics: EngineDiagnostic[];
    policyViolations: PolicyViolation[];
    /** Each resource's outputs as the operation reported them (a preview's: as the provider planned them). */
    outputsByUrn: Map<string, Record<string, unknown>>;
    /** Steps per operation (preview: changeSummary; up, refresh, destroy: resourceChanges). */
    changeSummary: OpMap;
    /** Stack outputs, plain (up only; empty otherwise). */
    outputs: Record<string, unknown>;
    stdout: string;
    seconds: number;
}

/** An operation the engine refused or failed; `run` holds what it reported before it stopped. */
export class EngineError extends Error {
    constructor(
        message: string,
        readonly run: EngineRun,
    ) {
        super(message);
        this.name = "EngineError";
    }
}

/** Collects the steps, diagnostics and policy violations of one operation from its events. */
function collector(): { run: EngineRun; onEvent: (e: EngineEvent) => void; onOutput: (s: string) => void } {
    const run: EngineRun = {
        steps: [],
        diagnostics: [],
        policyViolations: [],
        outputsByUrn: new Map(),
        changeSummary: {},
        outputs: {},
        stdout: "",
        seconds: 0,
    };
    const onEvent = (e: EngineEvent) => {
        const step = e.resourcePreEvent?.metadata;
        if (step) run.steps.push({ op: step.op, type: step.type, urn: step.urn });
        const out = e.resOutputsEvent?.metadata;
        if (out?.new?.outputs) run.outputsByUrn.set(out.urn, out.new.outputs);
        const d = e.diagnosticEvent;
        if (d) run.diagnostics.push({ severity: d.severity, message: d.message, ...(d.urn ? { urn: d.urn } : {}) });
        const p = e.policyEvent;
        if (p) {
            const { policyName, enforcementLevel, message } = p;
            run.policyViolations.push({
                policyName,
                enforcementLevel,
                message,
                ...(p.resourceUrn ? { urn: p.resourceUrn } : {}),
            });
        }
    };
    return { run, onEvent, onOutput: (s) => (run.stdout += s) };
}

export interface EngineStackOptions {
    toolchain: Toolchain;
    stackName: string;
    /**
     * The program: inline (what it returns, or resolves to, becomes the stack outputs), or a plain JavaScript module's
     * text that the language host runs from the work dir, as it runs a user's project; the CLI itself can then run
     * the stack too (`cli()`).
     */
    program: (() => unknown) | { source: string };
    /** Project name (default "ai-dualstack"). */
    projectName?: string;
    /** More environment for the CLI and the plugins it starts. */
    envVars?: Record<string, string>;
}

/** Options of preview and up: the policy packs to run (folders holding a PulumiPolicy.yaml), and more. */
export interface RunOptions {
    policyPacks?: string[];
    /** Fail when the operation would change anything (`pulumi preview --expect-no-changes`). */
    expectNoChanges?: boolean;
}

/**
 * A call the inline program still had in flight to the engine when the engine stopped (a failed or blocked
 * operation): gRPC UNAVAILABLE. The operation's own error says what went wrong; these only echo that it stopped.
 */
function isDroppedEngineCall(reason: unknown): boolean {
    return (
        isObject(reason) && reason["code"] === 14 && /Connection dropped|UNAVAILABLE/.test(String(reason["message"]))
    );
}

/** A stack on a throwaway file backend, run by the real engine with an inline program. */
export class EngineStack {
    /** Engine calls of the program dropped when an operation stopped (see isDroppedEngineCall). */
    droppedCalls = 0;
    private readonly onRejection = (reason: unknown) => {
        // What the program itself threw reaches the engine as the operation's error, and the SDK
        // leaves a copy of that rejection unhandled: the EngineError carries it already.
        if (this.programErrors.has(reason)) return;
        if (!isDroppedEngineCall(reason)) throw reason; // as Node would without this listener
        this.droppedCalls++;
    };

    private constructor(
        /** The errors the inline program threw (see onRejection). */
        private readonly programErrors: Set<unknown>,
        readonly stack: Stack,
        /** What the CLI runs with: the backend, the passphrase, the plugins. */
        private readonly envVars: Record<string, string>,
        /** The temporary folder holding the work dir and the backend; removed by dispose(). */
        readonly dir: string,
        /** The project name: the namespace of bare config keys. */
        readonly namespace: string,
    ) {
        process.on("unhandledRejection", this.onRejection);
    }

    /** Creates the work dir and the backend folder, and the stack in it. */
    static async create(opts: EngineStackOptions): Promise<EngineStack> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-e2e-"));
        const workDir = path.join(dir, "work");
        const backend = path.join(dir, "backend");
        fs.mkdirSync(workDir);
        fs.mkdirSync(backend); // the file backend does not create its folder
        const envVars: Record<string, string> = {
            PULUMI_BACKEND_URL: `file://${backend}`,
            PULUMI_CONFIG_PASSPHRASE: "aids-e2e-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            ...(opts.toolchain.pulumiHome ? { PULUMI_HOME: opts.toolchain.pulumiHome } : {}),
            ...opts.envVars,
        };
        const binDir = path.dirname(opts.toolchain.bin);
        // PulumiCommand looks for <root>/bin/pulumi; a CLI elsewhere is found on PATH.
        const root = path.basename(binDir) === "bin" ? path.dirname(binDir) : undefined;
        const pulumiCommand = await PulumiCommand.get(root ? { root } : {});
        const projectName = opts.projectName ?? "ai-dualstack";
        const programErrors = new Set<unknown>();
        const { program } = opts;
        const stack =
            typeof program === "function"
                ? await LocalWorkspace.createOrSelectStack(
                      {
                          stackName: opts.stackName,
                          projectName,
                          program: (() =>
                              Promise.resolve(program()).catch((err: unknown) => {
                                  programErrors.add(err);
                                  throw err;
                              })) as PulumiFn,
                      },
                      { workDir, envVars, pulumiCommand },
                  )
                : await LocalWorkspace.createOrSelectStack(
                      { stackName: opts.stackName, workDir: writeProject(workDir, projectName, program.source) },
                      { envVars, pulumiCommand },
                  );
        return new EngineStack(programErrors, stack, envVars, dir, projectName);
    }

    /** Runs the CLI itself on this stack (a program given as `source` only), e.g. `preview --json`. */
    cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        const bin = this.stack.workspace.pulumiCommand.command;
        const env = { ...process.env, ...this.envVars };
        const argv = [...args, "--stack", this.stack.name, "--non-interactive"];
        return new Promise((resolve) => {
            execFile(
                bin,
                argv,
                { cwd: this.stack.workspace.workDir, env, maxBuffer: 64 << 20 },
                (err, stdout, stderr) =>
                    resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
            );
        });
    }

    /**
     * Sets config: keys bare (`vms`, taken in the project's namespace) or qualified; objects stay objects. Secret
     * strings are encrypted whole; a secret object is set one leaf at a time (`pulumi config set --secret --path`),
     * as the README tells users to, since the CLI cannot encrypt an object whole.
     */
    async setConfig(plain: Record<string, unknown>, secrets: Record<string, unknown> = {}): Promise<void> {
        const name = this.stack.name;
        const entries: [string, unknown, boolean][] = Object.entries(plain).map(([k, v]) => [k, v, false]);
        const leaves: ConfigMap = {};
        for (const [key, value] of Object.entries(secrets)) {
            if (isObject(value)) flattenSecret(this.qualify(key), value, leaves);
            else entries.push([key, value, true]);
        }
        const json = Object.fromEntries(
            entries.map(([key, value, secret]) => [
                this.qualify(key),
                isObject(value)
                    ? { value: JSON.stringify(value), objectValue: value, secret }
                    : { value: typeof value === "string" ? value : JSON.stringify(value), secret },
            ]),
        );
        if (entries.length > 0) await this.stack.workspace.setAllConfigJson(name, JSON.stringify(json));
        if (Object.keys(leaves).length > 0) await this.stack.workspace.setAllConfig(name, leaves, true);
    }

    /** The config as the engine holds it: qualified key → value (objects parsed), secrets decrypted. */
    async getConfig(): Promise<Record<string, { value: unknown; secret: boolean }>> {
        const all = await this.stack.getAllConfig();
        return Object.fromEntries(
            Object.entries(all).map(([k, v]) => [k, { value: parseMaybe(v.value), secret: v.secret ?? false }]),
        );
    }

    preview(opts: RunOptions = {}): Promise<EngineRun> {
        return this.operation("preview", (h) =>
            this.stack.preview({ ...h, ...opts }).then((r) => ({ changeSummary: r.changeSummary, outputs: {} })),
        );
    }

    up(opts: RunOptions = {}): Promise<EngineRun> {
        return this.operation("up", (h) =>
            this.stack.up({ ...h, ...opts }).then((r) => ({
                changeSummary: r.summary.resourceChanges ?? {},
                outputs: Object.fromEntries(Object.entries(r.outputs).map(([k, o]) => [k, o.value as unknown])),
            })),
        );
    }

    refresh(): Promise<EngineRun> {
        return this.operation("refresh", (h) =>
            this.stack.refresh(h).then((r) => ({ changeSummary: r.summary.resourceChanges ?? {}, outputs: {} })),
        );
    }

    destroy(): Promise<EngineRun> {
        return this.operation("destroy", (h) =>
            this.stack.destroy(h).then((r) => ({ changeSummary: r.summary.resourceChanges ?? {}, outputs: {} })),
        );
    }

    /** Removes the stack's state and the temporary folder (after a destroy, if anything was created). */
    async dispose(): Promise<void> {
        try {
            await this.stack.workspace.removeStack(this.stack.name, { force: true });
        } finally {
            fs.rmSync(this.dir, { recursive: true, force: true });
            process.off("unhandledRejection", this.onRejection);
        }
    }

    private qualify(key: string): string {
        return key.includes(":") ? key : `${this.namespace}:${key}`;
    }

    /** Runs one operation with the event collector; a failure becomes an EngineError carrying what was seen. */
    private async operation(
        kind: string,
        fn: (handlers: {
            onEvent: (e: EngineEvent) => void;
            onOutput: (s: string) => void;
        }) => Promise<{ changeSummary: OpMap; outputs: Record<string, unknown> }>,
    ): Promise<EngineRun> {
        const { run, onEvent, onOutput } = collector();
        const start = Date.now();
        try {
            Object.assign(run, await fn({ onEvent, onOutput }));
            return run;
        } catch (err) {
            const errors = run.diagnostics.filter((d) => d.severity === "error").map((d) => d.message.trim());
            const detail = errors.length > 0 ? errors.join("\n") : String(err);
            throw new EngineError(`pulumi ${kind} failed:\n${detail}`, run);
        } finally {
            run.seconds = (Date.now() - start) / 1000;
        }
    }
}

/** The EngineError of an operation that must fail; an operation that succeeds is itself an error. */
export async function failureOf(op: Promise<EngineRun>): Promise<EngineError> {
    try {
        await op;
    } catch (err) {
        if (err instanceof EngineError) return err;
        throw err;
    }
    throw new Error("the operation was expected to fail, and it succeeded");
}
