// ModelThroughput: one model on one GPU must decode at least requiredTokensPerSecond, wholly in VRAM,
// or `pulumi up` fails with the measured and the required figure. Type token:
// pulumi-nodejs:dynamic/ollama:ModelThroughput.

import * as pulumi from "@pulumi/pulumi";
import { GATE_DEFAULTS } from "./client";
import { GpuUnderTest, Residency } from "./measure";
import { ModelThroughputInputs, modelThroughputProvider } from "./provider";

export const MODEL_THROUGHPUT_TYPE = "pulumi-nodejs:dynamic/ollama:ModelThroughput";

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
    prompt?: pulumi.Input<string>;
    numPredict?: pulumi.Input<number>;
    runs?: pulumi.Input<number>;
    seed?: pulumi.Input<number>;
    /** Fail on partial offload or CPU fallback (default true). */
    requireGpu?: pulumi.Input<boolean>;
    timeoutSeconds?: pulumi.Input<number>;
    stallSeconds?: pulumi.Input<number>;
    attempts?: pulumi.Input<number>;
    backoffMs?: pulumi.Input<number>;
    /** Delete the model from Ollama when the gate is deleted (default: keep it). */
    removeOnDelete?: pulumi.Input<boolean>;
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
            prompt: args.prompt ?? GATE_DEFAULTS.prompt,
            numPredict: args.numPredict ?? GATE_DEFAULTS.numPredict,
            runs: args.runs ?? GATE_DEFAULTS.runs,
            seed: args.seed ?? GATE_DEFAULTS.seed,
            requireGpu: args.requireGpu ?? GATE_DEFAULTS.requireGpu,
            timeoutSeconds: args.timeoutSeconds ?? GATE_DEFAULTS.timeoutSeconds,
            stallSeconds: args.stallSeconds ?? GATE_DEFAULTS.stallSeconds,
            attempts: args.attempts ?? GATE_DEFAULTS.attempts,
            backoffMs: args.backoffMs ?? GATE_DEFAULTS.backoffMs,
            removeOnDelete: args.removeOnDelete ?? false,
        };
        const outputs = Object.fromEntries(OUTPUTS.filter((k) => !(k in inputs)).map((k) => [k, undefined]));
        super(modelThroughputProvider, name, { ...outputs, ...inputs }, opts, "ollama", "ModelThroughput");
    }
}
