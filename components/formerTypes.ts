// The type tokens a component was registered under before it took its folder's name: aliases, so that
// a stack holding an old token keeps the component, and through it its children, instead of replacing them.
// tests/e2e/typeAliases.test.ts has the real engine preview each of them against a state holding the old ones.

import * as pulumi from "@pulumi/pulumi";

/** Each renamed component's token now, and the tokens it had before (newest first). */
export const FORMER_TYPES = {
    "ai-dualstack:gpuVm:GpuPassthroughVm": ["ai-dualstack:compute:GpuPassthroughVm"],
    "ai-dualstack:serviceLxc:ServiceLxc": ["ai-dualstack:compute:ServiceLxc"],
    "ai-dualstack:serviceLxc:RunnerSetup": ["ai-dualstack:cicd:RunnerSetup"],
    "ai-dualstack:serviceLxc:SecuritySetup": ["ai-dualstack:security:SecuritySetup"],
    // Named DataService before it was DataSetup: a stack from either time keeps its set-ups.
    "ai-dualstack:serviceLxc:DataSetup": ["ai-dualstack:data:DataSetup", "ai-dualstack:data:DataService"],
} as const satisfies Record<string, readonly string[]>;

export type RenamedType = keyof typeof FORMER_TYPES;

/** The caller's options, with an alias for each earlier token of the component `type` added to its own. */
export function withFormerTypes(
    type: RenamedType,
    opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.ComponentResourceOptions {
    const former = FORMER_TYPES[type].map((t) => ({ type: t }));
    return { ...opts, aliases: [...(opts?.aliases ?? []), ...former] };
}
