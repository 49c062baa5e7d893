// The post-deploy throughput gate: the models each GPU VM must serve fast enough, and how they are
// measured. The defaults come from lib/gateDefaults.ts, the one place they are written.

import { z } from "zod";
import { GATE_DEFAULTS } from "../../lib/gateDefaults";
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
    minTokensPerSecond: z
        .number()
        .positive("must be more than 0 tokens/s")
        .default(GATE_DEFAULTS.minTokensPerSecond)
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
        prompt: z.string().min(1).default(GATE_DEFAULTS.prompt).meta(d("The fixed prompt of every run.")),
        numPredict: z
            .number()
            .int()
            .min(16, "generate at least 16 tokens, or the rate is noise")
            .max(4096)
            .default(GATE_DEFAULTS.numPredict)
            .meta(d("Tokens generated per run.")),
        runs: z
            .number()
            .int()
            .min(1)
            .max(20)
            .default(GATE_DEFAULTS.runs)
            .meta(d("Measured runs after one warm-up run.")),
        requireGpu: z
            .boolean()
            .default(GATE_DEFAULTS.requireGpu)
            .meta(d("Fail when the model is not wholly in VRAM (partial offload or CPU fallback).")),
        timeoutSeconds: z
            .number()
            .int()
            .positive()
            .default(GATE_DEFAULTS.timeoutSeconds)
            .meta(d("Limit for each call to Ollama (a generation includes loading the model).")),
        stallSeconds: z
            .number()
            .int()
            .positive()
            .default(GATE_DEFAULTS.stallSeconds)
            .meta(d("A pull with no progress for this long is aborted.")),
        probe: ThroughputProbeSchema,
    })
    .prefault({})
    .meta(d("How the gate measures this VM's models."));

export type ModelGateConfig = z.infer<typeof ModelGateSchema>;
export type ThroughputGateConfig = z.infer<typeof ThroughputGateSchema>;
