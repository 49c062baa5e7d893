// The ModelThroughput dynamic provider: create and update run the gate (runGate.ts) and fail
// the deployment with its verdict; refresh measures again and records drift; delete keeps the model
// unless asked to remove it. Pulumi serializes this object into the state, so it holds no state of
// its own and reaches everything through plain imports.

import * as pulumi from "@pulumi/pulumi";
import { canonicalName } from "../../lib/modelRef";
import { GateInput, GateResult, removeModel, runGate } from "./runGate";
import { GateError } from "./transport";

/** What the resource is given, every setting filled in by the config: the gate's own input, plus
 * what only the resource needs. */
export interface ModelThroughputInputs extends GateInput {
    /** What serves the endpoint (the Ollama container's id): a new server measures again. */
    server?: string;
    removeOnDelete: boolean;
}

/** The last measurement; the digest found on the server is `modelDigest` (`digest` is the pin). */
export type Measurement = Omit<GateResult, "model" | "digest"> & { modelDigest: string };

/** The recorded state: the inputs plus the last measurement. */
export type ModelThroughputState = ModelThroughputInputs & Measurement;

export function measurementOf(result: GateResult): Measurement {
    const { model, digest, ...figures } = result;
    void model;
    return { ...figures, modelDigest: digest };
}

/** Changing one of these moves the gate to another model or server: a new resource. */
export const REPLACE_KEYS = ["endpoint", "model"] as const;
/** Changing one of these measures again. */
export const MEASURE_KEYS = [
    "server",
    "digest",
    "gpu",
    "requiredTokensPerSecond",
    "requiredEfficiency",
    "prompt",
    "numPredict",
    "runs",
    "seed",
    "requireGpu",
] as const;
/** The rest (timeouts, retries, removeOnDelete) are stored without measuring again. */

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function gateInput(i: ModelThroughputInputs): GateInput {
    const { server, removeOnDelete, ...gate } = inputsOf(i);
    void server;
    void removeOnDelete;
    return gate;
}

/** The engine shows a provider's stderr lines as diagnostics during `pulumi up`. */
function progress(line: string): void {
    process.stderr.write(`ollama gate: ${line}\n`);
}

function inputsOf(state: ModelThroughputInputs): ModelThroughputInputs {
    const { endpoint, server, model, digest, gpu, requiredTokensPerSecond, requiredEfficiency, prompt, numPredict } =
        state;
    const { runs, seed } = state;
    const { requireGpu, timeoutSeconds, stallSeconds, attempts, backoffMs, removeOnDelete } = state;
    return {
        endpoint,
        ...(server ? { server } : {}),
        model,
        ...(digest ? { digest } : {}),
        gpu,
        requiredTokensPerSecond,
        ...(requiredEfficiency !== undefined && requiredEfficiency !== null ? { requiredEfficiency } : {}),
        prompt,
        numPredict,
        runs,
        seed,
        requireGpu,
        timeoutSeconds,
        stallSeconds,
        attempts,
        backoffMs,
        removeOnDelete,
    };
}

async function measure(inputs: ModelThroughputInputs): Promise<ModelThroughputState> {
    const result = await runGate(gateInput(inputs), { allowPull: true, log: progress });
    if (!result.passed) throw new Error(`throughput gate failed: ${result.message}`);
    progress(result.message);
    return { ...inputsOf(inputs), ...measurementOf(result) };
}

/** How the engine passes a value that is not known yet (during a preview) to a dynamic provider. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const modelThroughputProvider: pulumi.dynamic.ResourceProvider<ModelThroughputInputs, ModelThroughputState> = {
    check(_olds, news) {
        const failures: pulumi.dynamic.CheckFailure[] = [];
        if (news.endpoint !== UNKNOWN && !/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(news.endpoint ?? "")) {
            failures.push({
                property: "endpoint",
                reason: "must be Ollama's base URL, such as http://10.10.10.10:11434",
            });
        }
        if (!(news.requiredTokensPerSecond > 0)) {
            failures.push({ property: "requiredTokensPerSecond", reason: "must be more than 0 tokens/s" });
        }
        const eff = news.requiredEfficiency;
        if (eff !== undefined && eff !== null && !(eff > 0 && eff <= 1)) {
            failures.push({
                property: "requiredEfficiency",
                reason: "must be a share of the roofline, more than 0 and at most 1",
            });
        }
        if (!(Number.isInteger(news.runs) && news.runs >= 1)) {
            failures.push({ property: "runs", reason: "must be a whole number of runs, at least 1" });
        }
        if (!(Number.isInteger(news.numPredict) && news.numPredict >= 1)) {
            failures.push({ property: "numPredict", reason: "must be a whole number of tokens, at least 1" });
        }
        if (!(news.gpu?.memoryBandwidthGBs > 0)) {
            failures.push({ property: "gpu", reason: "needs the card's memoryBandwidthGBs" });
        }
        return Promise.resolve({ inputs: news, failures });
    },

    diff(_id, olds, news) {
        const replaces = REPLACE_KEYS.filter((k) => !same(olds[k], news[k]));
        const remeasure = MEASURE_KEYS.filter((k) => !same(olds[k], news[k]));
        const stored = (["timeoutSeconds", "stallSeconds", "attempts", "backoffMs", "removeOnDelete"] as const).filter(
            (k) => !same(olds[k], news[k]),
        );
        // A refresh that measured a failure leaves passed=false: the next `up` gates again.
        const failedLastTime = olds.passed === false;
        return Promise.resolve({
            changes: replaces.length + remeasure.length + stored.length > 0 || failedLastTime,
            replaces: [...replaces],
            // Both gates may reach the same Ollama: removing the old model after the new gate
            // measured it would undo the new one.
            ...(replaces.length > 0 && (olds.removeOnDelete || news.removeOnDelete)
                ? { deleteBeforeReplace: true }
                : {}),
        });
    },

    async create(inputs) {
        const outs = await measure(inputs);
        return { id: `${inputs.endpoint}#${canonicalName(inputs.model)}`, outs };
    },

    async update(_id, olds, news) {
        const remeasure = MEASURE_KEYS.some((k) => !same(olds[k], news[k])) || olds.passed === false;
        if (!remeasure) return { outs: { ...olds, ...inputsOf(news) } };
        return { outs: await measure(news) };
    },

    /**
     * `pulumi refresh`: measure again without pulling. A slower or misplaced model, or one that is
     * gone or unreachable, is recorded as drift (passed=false), and the next `up` gates again.
     */
    async read(id, props) {
        if (props === undefined)
            throw new Error(`cannot import a throughput gate (${id}); create it with \`pulumi up\``);
        const inputs = inputsOf(props);
        try {
            const result = await runGate(gateInput(inputs), { allowPull: false, log: progress });
            return { id, props: { ...inputs, ...measurementOf(result) } };
        } catch (err) {
            if (!(err instanceof GateError)) throw err;
            progress(`refresh: ${err.message}`);
            return { id, props: { ...props, passed: false, message: err.message } };
        }
    },

    async delete(_id, props) {
        if (!props.removeOnDelete) return;
        try {
            await removeModel(gateInput(props));
        } catch (err) {
            // The VM is often deleted in the same run: nothing left to clean up.
            if (err instanceof GateError && err.kind === "unreachable") {
                progress(`${props.model} not removed: ${err.message}`);
                return;
            }
            throw err;
        }
    },
};
