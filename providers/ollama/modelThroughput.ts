// ModelThroughput: one model on one GPU must decode at least requiredTokensPerSecond, wholly in VRAM,
// or `pulumi up` fails with the measured and the required figure. Type token:
// pulumi-nodejs:dynamic/ollama:ModelThroughput.

import * as pulumi from "@pulumi/pulumi";
import { GpuUnderTest, Residency } from "./measure";
import { ModelThroughputInputs, modelThroughputProvider } from "./provider";

export interface ModelThroughputArgs {
    /** Ollama's base URL as seen from where `pulumi up` runs. */
    endpoint: pulumi.Input<string>;
    /** What serves the endpoint (such as the Ollama container's id); when it changes, measure again. */
    server?: pulumi.Input<string>;
    model: pulumi.Input<string>;
    /** Pinned manifest digest; a model with another digest is pulled again, then checked. */
    digest?: pulumi.Input<string>;
    gpu: pulumi.Input<GpuUnderTest>;
    /** Required median decode rate. */
    requiredTokensPerSecond: pulumi.Input<number>;
    /** The fixed prompt of every run. Defaults for all of these: lib/gateDefaults.ts, applied by the config. */
    prompt: pulumi.Input<string>;
    /** Tokens generated per run. */
    numPredict: pulumi.Input<number>;
    /** Measured runs after one warm-up. */
    runs: pulumi.Input<number>;
    seed: pulumi.Input<number>;
    /** Fail on partial offload or CPU fallback. */
    requireGpu: pulumi.Input<boolean>;
    /** Limit for each call to Ollama. */
    timeoutSeconds: pulumi.Input<number>;
    /** A pull with no progress for this long is aborted. */
    stallSeconds: pulumi.Input<number>;
    /** Tries for a call that fails to connect, and the first retry's delay (doubling). */
    attempts: pulumi.Input<number>;
    backoffMs: pulumi.Input<number>;
    /** Delete the model from Ollama when the gate is deleted. */
    removeOnDelete: pulumi.Input<boolean>;
}

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
        const inputs: Record<keyof ModelThroughputInputs, unknown> = {
            endpoint: args.endpoint,
            server: args.server,
            model: args.model,
            digest: args.digest,
            gpu: args.gpu,
            requiredTokensPerSecond: args.requiredTokensPerSecond,
            prompt: args.prompt,
            numPredict: args.numPredict,
            runs: args.runs,
            seed: args.seed,
            requireGpu: args.requireGpu,
            timeoutSeconds: args.timeoutSeconds,
            stallSeconds: args.stallSeconds,
            attempts: args.attempts,
            backoffMs: args.backoffMs,
            removeOnDelete: args.removeOnDelete,
        };
        const outputs = Object.fromEntries(OUTPUTS.filter((k) => !(k in inputs)).map((k) => [k, undefined]));
        super(modelThroughputProvider, name, { ...outputs, ...inputs }, opts, "ollama", "ModelThroughput");
    }
}
