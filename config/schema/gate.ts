// The post-deploy throughput gate: the models each GPU VM must serve fast enough, and how they are
// measured. This schema is the one place a gate setting is written: its type (GateSettings), its
// default and its documentation; the gate's provider and the probe take the settings spread.

import { z } from "zod";
import { d, flag } from "./fields";
import { ThroughputProbeSchema } from "./probe";

export const MODEL_REF_PATTERN = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*(:[a-z0-9][a-z0-9._-]*)?$/i;

export const ModelGateSchema = z.strictObject({
    name: z
        .string()
        .regex(MODEL_REF_PATTERN, 'must be an Ollama model reference such as "qwen2.5:14b" or "mistral:7b"')
        .meta(d("Ollama model, name:tag; pulled on the VM's Ollama if it is not there.")),
    digest: z
        .string()
        .regex(/^(sha256:)?[0-9a-f]{12,64}$/, "must be the digest `ollama list` shows (12 to 64 hex digits)")
        .optional()
        .meta(d("Pin the model's manifest digest: another digest is pulled again, and a mismatch fails.")),
    sizeGB: z
        .number()
        .positive("must be the model's download size in GB, more than 0")
        .optional()
        .meta(
            d(
                "The model's size in GB as the Ollama library lists it, for the check that it fits the GPU's memory before anything is pulled; needed only for a model the repository's table (lib/modelSizes.ts) does not know, and it wins over the table.",
            ),
        ),
    minTokensPerSecond: z
        .number()
        .positive("must be more than 0 tokens/s")
        .default(50)
        .meta(d("The decode rate (median of the measured runs) below which `pulumi up` fails.")),
    minEfficiency: z
        .number()
        .gt(0, "must be a share of the card's roofline, more than 0")
        .max(1, "must be a share of the card's roofline, at most 1 (0.4 is 40%)")
        .optional()
        .meta(
            d(
                "Also require this share (0-1) of the card's roofline, memory bandwidth / model size; the higher of the two requirements applies.",
            ),
        ),
    removeOnDelete: flag(false, "Delete the model from Ollama when it leaves this list (by default it stays)."),
});

export const ThroughputGateSchema = z
    .strictObject({
        enabled: flag(
            true,
            "Measure the models after deploy; off skips the gate (the models are then not pulled either).",
        ),
        endpoint: z
            .url({ protocol: /^https?$/, message: 'must be a URL such as "http://10.10.10.10:11434"' })
            .optional()
            .meta(d("Ollama's URL as seen from where `pulumi up` runs; default: the VM's address, port 11434.")),
        prompt: z
            .string()
            .min(1)
            .default(
                "Explain, step by step, how a home lab server with two GPUs can serve two language models at once.",
            )
            .meta(d("The fixed prompt of every run.")),
        numPredict: z
            .number()
            .int()
            .min(16, "generate at least 16 tokens, or the rate is noise")
            .max(4096)
            .default(128)
            .meta(d("Tokens generated per run.")),
        runs: z.number().int().min(1).max(20).default(3).meta(d("Measured runs after one warm-up run.")),
        requireGpu: z
            .boolean()
            .default(true)
            .meta(d("Fail when the model is not wholly in VRAM (partial offload or CPU fallback).")),
        timeoutSeconds: z
            .number()
            .int()
            .positive()
            .default(300)
            .meta(d("Limit for each call to Ollama (a generation includes loading the model).")),
        stallSeconds: z
            .number()
            .int()
            .positive()
            .default(120)
            .meta(d("A pull with no progress for this long is aborted.")),
        probe: ThroughputProbeSchema,
    })
    .prefault({})
    .meta(d("How the gate measures this VM's models."));

export type ModelGateConfig = z.infer<typeof ModelGateSchema>;
export type ThroughputGateConfig = z.infer<typeof ThroughputGateSchema>;

/** What the stack fixes rather than the config: the seed of every generation and the retry policy. */
export const FIXED_GATE_SETTINGS = { seed: 42, attempts: 6, backoffMs: 1000 } as const;

/**
 * The throughput gate of one VM, every setting filled in: the schema's fields (defaults applied) less
 * the switches that decide whether and where it runs, plus the fixed settings. A setting added to the
 * schema reaches the gate's provider and the probe through this type, spread, never copied by name.
 */
export type GateSettings = Readonly<
    Omit<ThroughputGateConfig, "enabled" | "probe"> & { [K in keyof typeof FIXED_GATE_SETTINGS]: number }
>;

/** The resolved settings of a gate from its config. */
export function gateSettings(config: ThroughputGateConfig): GateSettings {
    const { enabled: _enabled, probe: _probe, ...settings } = config;
    return { ...settings, ...FIXED_GATE_SETTINGS };
}

/** Every setting at its default, as a VM with `throughputGate: {}` gets it (tests and benches start here). */
export const GATE_DEFAULTS = gateSettings(ThroughputGateSchema.parse({}));
