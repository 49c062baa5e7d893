// The gate's transport to one Ollama server: its own error type, a client whose every call has a
// timeout, retries with backoff for calls that fail to connect, and digest comparison.

import { Ollama } from "ollama";

export type GateErrorKind = "unreachable" | "timeout" | "unknown-model" | "pull-failed" | "digest-mismatch" | "ollama";

/** A failure of the gate's infrastructure rather than of the model's speed. */
export class GateError extends Error {
    constructor(
        message: string,
        readonly kind: GateErrorKind,
    ) {
        super(message);
        this.name = "GateError";
    }
}

/** A pinned digest as bare lowercase hex. */
export function normalizeDigest(digest: string): string {
    return digest.toLowerCase().replace(/^sha256:/, "");
}

export function digestMatches(pinned: string | undefined, actual: string): boolean {
    if (pinned === undefined) return true;
    const want = normalizeDigest(pinned);
    return actual.toLowerCase().startsWith(want);
}

// ---- transport: timeouts and retries ----

const TRANSIENT_CODES = new Set([
    "ECONNREFUSED",
    "ECONNRESET",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "ETIMEDOUT",
    "EAI_AGAIN",
    "EPIPE",
    "UND_ERR_SOCKET",
    "UND_ERR_CONNECT_TIMEOUT",
]);

// Errors from fetch come from Node's own realm (not the caller's, under jest or a vm), so they
// are recognized by shape, never with instanceof.
export const isObject = (e: unknown): e is Record<string, unknown> => typeof e === "object" && e !== null;

function errorCode(err: unknown): string | undefined {
    let e: unknown = err;
    for (let depth = 0; depth < 4 && isObject(e); depth++) {
        if (typeof e["code"] === "string") return e["code"];
        e = e["cause"];
    }
    return undefined;
}

/** A connection-level failure worth retrying, or a gateway in front of Ollama that is restarting. */
export function isTransient(err: unknown): boolean {
    const code = errorCode(err);
    if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
    const status = (err as { status_code?: unknown }).status_code;
    return status === 502 || status === 503 || status === 504;
}

/** fetch's own failure (TypeError "fetch failed"), whatever its cause. */
function isNetworkError(err: unknown): boolean {
    return isObject(err) && err["name"] === "TypeError" && err["message"] === "fetch failed";
}

function causeMessage(err: unknown): string {
    const cause = isObject(err) ? err["cause"] : undefined;
    if (isObject(cause) && typeof cause["message"] === "string") return cause["message"];
    return isObject(err) && typeof err["message"] === "string" ? err["message"] : String(err);
}

function isTimeout(err: unknown): boolean {
    return isObject(err) && (err["name"] === "TimeoutError" || err["name"] === "AbortError");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What a retried call needs to know of the gate's run (a part of runGate's GateInput, declared here
 * so that transport does not import back from runGate): where, for which model and GPU, how long
 * and how often.
 */
export interface RetrySettings {
    readonly endpoint: string;
    readonly model: string;
    readonly gpu: { readonly name: string };
    readonly timeoutSeconds: number;
    readonly attempts: number;
    readonly backoffMs: number;
}

/** Runs `call`, retrying transient failures with exponential backoff. */
export async function withRetry<T>(what: string, input: RetrySettings, call: () => Promise<T>): Promise<T> {
    let delay = input.backoffMs;
    for (let attempt = 1; ; attempt++) {
        try {
            return await call();
        } catch (err) {
            if (err instanceof GateError) throw err;
            if (isTimeout(err)) {
                throw new GateError(
                    `Ollama at ${input.endpoint} did not answer ${what} within ${input.timeoutSeconds} s (model ${input.model}, GPU ${input.gpu.name}); raise the gate's timeoutSeconds for a slow first load`,
                    "timeout",
                );
            }
            const transient = isTransient(err);
            if (!transient && !isNetworkError(err)) throw err;
            if (!transient || attempt >= input.attempts) {
                const why = errorCode(err) ?? causeMessage(err);
                throw new GateError(
                    `cannot reach Ollama at ${input.endpoint} for model ${input.model} on GPU ${input.gpu.name}: ${why} after ${attempt} ${attempt === 1 ? "try" : "tries"}. ` +
                        "Is the VM running, is the Ollama container up and listening on that address, and does the firewall let this machine in?",
                    "unreachable",
                );
            }
            await sleep(delay);
            delay *= 2;
        }
    }
}

/** An ollama-js client whose every request is limited to `timeoutMs` (none when 0). */
export function client(endpoint: string, timeoutMs: number): Ollama {
    const timed: typeof fetch = (url, init) => {
        if (timeoutMs <= 0) return fetch(url, init);
        const limit = AbortSignal.timeout(timeoutMs);
        const signal = init?.signal ? AbortSignal.any([init.signal, limit]) : limit;
        return fetch(url, { ...init, signal });
    };
    return new Ollama({ host: endpoint, fetch: timed });
}

// ---- steps ----
