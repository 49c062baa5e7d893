// ModelThroughput: one model on one GPU must decode at least its required rate (minTokensPerSecond,
// or minEfficiency of the card's roofline when higher), wholly in VRAM, or `pulumi up` fails with
// the measured and the required figure; both are outputs. Type token:
// pulumi-nodejs:dynamic/ollama:ModelThroughput.

import * as pulumi from "@pulumi/pulumi";
import { Measurement, ModelThroughputInputs, ModelThroughputState, modelThroughputProvider } from "./provider";

/**
 * The resource's arguments: the provider's inputs (provider.ts, documented on GateInput), each of
 * them an Input. Every setting is given; the config schema applies the defaults (config/schema/gate.ts).
 */
export type ModelThroughputArgs = { [K in keyof ModelThroughputInputs]: pulumi.Input<ModelThroughputInputs[K]> };

/** The measured outputs, set by the provider; undefined in a preview. */
const OUTPUTS: readonly (keyof Measurement)[] = [
    "modelDigest",
    "pulled",
    "passed",
    "requiredTokensPerSecond",
    "message",
    "tokensPerSecond",
    "slowestTokensPerSecond",
    "runsTokensPerSecond",
    "promptTokensPerSecond",
    "timeToFirstTokenMs",
    "loadMs",
    "modelBytes",
    "size",
    "sizeVram",
    "residency",
    "ceilingTokensPerSecond",
    "efficiencyPercent",
    "wallMs",
    "generationMs",
    "measuredAt",
];

/**
 * The resource's outputs: the provider's recorded state (its inputs and the last measurement, see
 * provider.ts: `modelDigest` the digest found, `tokensPerSecond` the median decode rate,
 * `ceilingTokensPerSecond` bandwidth / model bytes, `requiredTokensPerSecond` the rate the verdict
 * applied), each an Output.
 */
export type ModelThroughputOutputs = {
    readonly [K in keyof ModelThroughputState]-?: pulumi.Output<ModelThroughputState[K]>;
};

// The outputs are typed from the provider's state instead of a hand-kept list of declarations; a
// dynamic resource's outputs are its state's properties, so the merged interface is exact.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface ModelThroughput extends ModelThroughputOutputs {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class ModelThroughput extends pulumi.dynamic.Resource {
    constructor(name: string, args: ModelThroughputArgs, opts?: pulumi.CustomResourceOptions) {
        // The optional inputs are stored even when unset, so that setting one later shows as a diff.
        const inputs: Record<keyof ModelThroughputInputs, unknown> = {
            server: undefined,
            digest: undefined,
            minEfficiency: undefined,
            ...args,
        };
        const outputs = Object.fromEntries(OUTPUTS.filter((k) => !(k in inputs)).map((k) => [k, undefined]));
        super(modelThroughputProvider, name, { ...outputs, ...inputs }, opts, "ollama", "ModelThroughput");
    }
}
