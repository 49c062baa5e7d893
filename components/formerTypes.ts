// The type tokens a component was registered under before it took its folder's name: aliases, so that
// a stack holding an old token keeps the component, and through it its children, instead of replacing them.

import * as pulumi from "@pulumi/pulumi";

/** The caller's options, with an alias for each earlier type token of the component added to its own. */
export function withFormerTypes(
    opts: pulumi.ComponentResourceOptions | undefined,
    ...types: string[]
): pulumi.ComponentResourceOptions {
    return { ...opts, aliases: [...(opts?.aliases ?? []), ...types.map((type) => ({ type }))] };
}
