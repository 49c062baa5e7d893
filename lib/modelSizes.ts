// The download size of well-known Ollama models, so a model that cannot fit its GPU is refused in
// the plan, before the gate pulls tens of gigabytes. A model not listed here states its size in
// the config (vms.<vm>.models[i].sizeGB).
//
// Source: the Ollama library's tag pages (https://ollama.com/library/<model>/tags), the size shown
// for each size tag's default, which is the Q4_K_M quantisation. Ollama prints decimal gigabytes
// (GB, 10^9 bytes); the card's memory (vramGiB) is binary, so compare through bytes.

import { canonicalName } from "./modelRef";

/** "name:tag" → the default quantisation's size in GB, as the Ollama library lists it. */
export const MODEL_SIZES_GB: Readonly<Record<string, number>> = {
    "qwen2.5:0.5b": 0.398,
    "qwen2.5:1.5b": 0.986,
    "qwen2.5:3b": 1.9,
    "qwen2.5:7b": 4.7,
    "qwen2.5:14b": 9.0,
    "qwen2.5:32b": 20,
    "qwen2.5:72b": 47,
    "qwen2.5-coder:7b": 4.7,
    "qwen2.5-coder:14b": 9.0,
    "qwen2.5-coder:32b": 20,
    "mistral:7b": 4.4,
    "mixtral:8x7b": 26,
    "mixtral:8x22b": 80,
    "llama3.1:8b": 4.9,
    "llama3.1:70b": 43,
    "llama3.1:405b": 243,
    "llama3.2:1b": 1.3,
    "llama3.2:3b": 2.0,
    "gemma2:2b": 1.6,
    "gemma2:9b": 5.4,
    "gemma2:27b": 16,
    "deepseek-r1:7b": 4.7,
    "deepseek-r1:8b": 4.9,
    "deepseek-r1:14b": 9.0,
    "deepseek-r1:32b": 20,
    "deepseek-r1:70b": 43,
};

const GIB = 1024 ** 3;

/** GB (decimal, as Ollama prints) → GiB (as vramGiB is written). */
export function gbToGiB(gb: number): number {
    return (gb * 1e9) / GIB;
}

/** The size in GB of a model reference, from the table; undefined for a model it does not know. */
export function knownModelSizeGB(model: string): number | undefined {
    return MODEL_SIZES_GB[canonicalName(model)];
}

/**
 * VRAM kept beside the weights: the CUDA context and the KV cache of Ollama's default context
 * window. Below it a model that "fits" on paper still spills onto the CPU, which the gate refuses.
 */
export const VRAM_HEADROOM_GIB = 1;

/** The biggest other tag of the same model that the table knows fits `vramGiB`, for the message's fix. */
export function largestFitting(model: string, vramGiB: number): string | undefined {
    const canonical = canonicalName(model);
    const base = canonical.split(":")[0];
    return Object.entries(MODEL_SIZES_GB)
        .filter(
            ([name, gb]) =>
                name !== canonical && name.split(":")[0] === base && gbToGiB(gb) + VRAM_HEADROOM_GIB <= vramGiB,
        )
        .sort(([, a], [, b]) => b - a)[0]?.[0];
}
