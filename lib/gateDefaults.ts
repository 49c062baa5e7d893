// The throughput gate's defaults, in one place: the config schema's defaults for the keys a user may
// set, and the fixed settings (seed, retries) the resolve step adds. The provider applies none.

export const GATE_DEFAULTS = {
    prompt: "Explain, step by step, how a home lab server with two GPUs can serve two language models at once.",
    numPredict: 128,
    runs: 3,
    seed: 42,
    requireGpu: true,
    timeoutSeconds: 300,
    stallSeconds: 120,
    attempts: 6,
    backoffMs: 1000,
    minTokensPerSecond: 50,
} as const;
