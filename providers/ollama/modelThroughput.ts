// ModelThroughput: one model on one GPU must decode at least requiredTokensPerSecond, wholly in VRAM,
// or `pulumi up` fails with the measured and the required figure. Type token:
// pulumi-nodejs:dynamic/ollama:ModelThroughput.

import * as pulumi from "@pulumi/pulumi";
import { Residency } from "./measure";
import { ModelThroughputInputs, modelThroughputProvider } from "./provider";

/**
 * The resource's arguments: the provider's inputs (provider.ts, documented on GateInput), each of
 * them an Input. Every setting is given; the config applies the defaults (lib/gateDefaults.ts).
 */
export type ModelThroughputArgs = { [K in keyof ModelThroughputInputs]: pulumi.Input<ModelThroughputInputs[K]> };

/** The measured outputs, set by the provider; undefined in a preview. */
const OUTPUTS = [
    "modelDigest",
    "pulled",
    "passed",
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
] as const;

export class ModelThroughput extends pulumi.dynamic.Resource {
    declare readonly endpoint: pulumi.Output<string>;
    declare readonly model: pulumi.Output<string>;
    /** The manifest digest found on the server. */
    declare readonly modelDigest: pulumi.Output<string>;
    declare readonly pulled: pulumi.Output<boolean>;
    declare readonly passed: pulumi.Output<boolean>;
    declare readonly message: pulumi.Output<string>;
    /** Median decode rate of the measured runs. */
    declare readonly tokensPerSecond: pulumi.Output<number>;
    declare readonly slowestTokensPerSecond: pulumi.Output<number>;
    declare readonly runsTokensPerSecond: pulumi.Output<number[]>;
    declare readonly promptTokensPerSecond: pulumi.Output<number>;
    declare readonly timeToFirstTokenMs: pulumi.Output<number>;
    declare readonly loadMs: pulumi.Output<number>;
    declare readonly modelBytes: pulumi.Output<number>;
    declare readonly residency: pulumi.Output<Residency>;
    /** Memory bandwidth / model bytes: the most this card can decode. */
    declare readonly ceilingTokensPerSecond: pulumi.Output<number>;
    declare readonly efficiencyPercent: pulumi.Output<number>;
    declare readonly measuredAt: pulumi.Output<string>;

    constructor(name: string, args: ModelThroughputArgs, opts?: pulumi.CustomResourceOptions) {
        // The optional inputs are stored even when unset, so that setting one later shows as a diff.
        const inputs: Record<keyof ModelThroughputInputs, unknown> = { server: undefined, digest: undefined, ...args };
        const outputs = Object.fromEntries(OUTPUTS.filter((k) => !(k in inputs)).map((k) => [k, undefined]));
        super(modelThroughputProvider, name, { ...outputs, ...inputs }, opts, "ollama", "ModelThroughput");
    }
}
