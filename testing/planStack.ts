// Runs the real program for one stack under the mock runtime, against that stack's files: what the
// offline plan prints, and what the tests and the bench assert and time.

import type { Unwrap } from "@pulumi/pulumi";
import { loadStackConfig } from "../config/load";
import { buildStack, POLICIES } from "../stacks";
import type { EnvironmentOutputs } from "../stacks/outputs";
import { RecordedResource, runOffline } from "./mockRuntime";
import { readStackConfig } from "./stackFiles";

export interface PlannedStack {
    stack: string;
    notes: string[];
    resources: RecordedResource[];
    outputs: Unwrap<EnvironmentOutputs> | undefined;
}

/** Runs index.ts for one stack under the mock runtime. */
export async function planStack(
    stack: string,
    opts: { projectDir?: string; overrides?: Record<string, unknown> } = {},
): Promise<PlannedStack> {
    const files = readStackConfig(stack, opts);
    // The same two calls index.ts makes, so that several stacks can run in one process.
    const run = await runOffline({
        stack,
        config: files.config,
        secretKeys: files.secretKeys,
        program: () => buildStack(loadStackConfig(POLICIES)),
    });
    if (run.error !== undefined) throw run.error;
    return {
        stack,
        notes: [...files.notes, ...run.warnings.map((w) => `warning: ${w}`)],
        resources: run.resources,
        outputs: run.outputs,
    };
}
