// The ModelThroughput dynamic provider: create and update run the gate (runGate.ts) and fail
// the deployment with its verdict; refresh measures again and records drift; delete keeps the model
// unless asked to remove it. Pulumi serializes this object into the state, so it holds no state of
// its own and reaches everything through plain imports.

import * as pulumi from "@pulumi/pulumi";
import { canonicalName } from "../../lib/modelRef";
import { requiredRate } from "./measure";
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
/** Changing one of these is stored without measuring again: how patient the gate is, and clean-up. */
export const STORED_KEYS = [
    "timeoutSeconds",
    "stallSeconds",
    "attempts",
    "backoffMs",
    "removeOnDelete",
] as const satisfies readonly (keyof ModelThroughputInputs)[];

/**
 * The measured fields of the recorded state, each named once (the Record makes the list complete):
 * what is left of a state without them is its inputs, whatever settings the gate has.
 */
const MEASURED: Record<keyof Measurement, true> = {
    modelDigest: true,
    pulled: true,
    passed: true,
    requiredTokensPerSecond: true,
    cause: true,
    message: true,
    tokensPerSecond: true,
    slowestTokensPerSecond: true,
    runsTokensPerSecond: true,
    promptTokensPerSecond: true,
    timeToFirstTokenMs: true,
    loadMs: true,
    modelBytes: true,
    size: true,
    sizeVram: true,
    residency: true,
    ceilingTokensPerSecond: true,
    efficiencyPercent: true,
    wallMs: true,
    generationMs: true,
    measuredAt: true,
};

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The engine's own key in a dynamic resource's inputs and state: the serialized provider. */
const PROVIDER_KEY = "__provider";

/**
 * The inputs whose change measures again: every input but the replace and the stored ones (the
 * server, the model's pin, the card, the thresholds, how the runs are made). Derived from the inputs
 * themselves, so that a new gate setting re-measures with no edit here.
 */
export function remeasured(olds: ModelThroughputInputs, news: ModelThroughputInputs): string[] {
    const fixed: readonly string[] = [...REPLACE_KEYS, ...STORED_KEYS, PROVIDER_KEY];
    const before = olds as unknown as Record<string, unknown>;
    const after = news as unknown as Record<string, unknown>;
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].filter((k) => !fixed.includes(k) && !(k in MEASURED) && !same(before[k], after[k]));
}

/**
 * Input names before the gate took the config's own (minTokensPerSecond, minEfficiency): states
 * recorded then carry the old names until the gate records again. `requiredTokensPerSecond` is now
 * also a measured output (the rate the verdict applied): it is the old input only in a state that
 * has no minTokensPerSecond, which every state recorded since has.
 */
const LEGACY_NAMES = { requiredTokensPerSecond: "minTokensPerSecond", requiredEfficiency: "minEfficiency" } as const;

/** The input a key of this state held under its old name, if it is one. */
function legacyName(state: object, key: string): string | undefined {
    if (!(key in LEGACY_NAMES)) return undefined;
    const name = LEGACY_NAMES[key as keyof typeof LEGACY_NAMES];
    return name in state ? undefined : name;
}

/**
 * A state recorded before the gate recorded the rate it required (or under the old names, where
 * requiredTokensPerSecond was the threshold): the next `up` records it, without measuring again.
 */
export function lacksRequiredRate(state: ModelThroughputState): boolean {
    return !("minTokensPerSecond" in state) || typeof state.requiredTokensPerSecond !== "number";
}

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

/** A recorded state's inputs under today's names: the measured fields and unset optionals dropped. */
export function inputsOf(state: ModelThroughputInputs): ModelThroughputInputs {
    const inputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(state)) {
        // An old name stands for today's input only in a state without today's (legacyName).
        const name = k in LEGACY_NAMES ? legacyName(state, k) : k in MEASURED || k === PROVIDER_KEY ? undefined : k;
        if (name === undefined || v === undefined || v === null || v === "") continue;
        inputs[name] = v;
    }
    return inputs as unknown as ModelThroughputInputs;
}

/**
 * A recorded state's last measurement alone, under today's names: the rate required is worked out
 * again from the inputs and the recorded ceiling (the same figure for a state that recorded it, and
 * the figure a state recorded before it existed lacks).
 */
function measuredOf(state: ModelThroughputState, inputs: ModelThroughputInputs): Measurement {
    const measured = Object.entries(state).filter(([k]) => k in MEASURED && legacyName(state, k) === undefined);
    const need = requiredRate({ ...inputs, ceiling: state.ceilingTokensPerSecond ?? 0 });
    return { ...Object.fromEntries(measured), requiredTokensPerSecond: need.tokensPerSecond } as Measurement;
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
        if (!(news.minTokensPerSecond > 0)) {
            failures.push({ property: "minTokensPerSecond", reason: "must be more than 0 tokens/s" });
        }
        const eff = news.minEfficiency;
        if (eff !== undefined && eff !== null && !(eff > 0 && eff <= 1)) {
            failures.push({
                property: "minEfficiency",
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

    diff(_id, recorded, news) {
        const olds = inputsOf(recorded);
        const replaces = REPLACE_KEYS.filter((k) => !same(olds[k], news[k]));
        const remeasure = remeasured(olds, news);
        const stored = STORED_KEYS.filter((k) => !same(olds[k], news[k]));
        // A refresh that measured a failure leaves passed=false: the next `up` gates again.
        const failedLastTime = recorded.passed === false;
        return Promise.resolve({
            changes:
                replaces.length + remeasure.length + stored.length > 0 || failedLastTime || lacksRequiredRate(recorded),
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
        const remeasure = remeasured(inputsOf(olds), news).length > 0 || olds.passed === false;
        if (!remeasure) return { outs: { ...measuredOf(olds, inputsOf(news)), ...inputsOf(news) } };
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
