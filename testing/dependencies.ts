// A registration's dependencies as the engine is told them: the resources its inputs' Outputs came
// from and those it names in dependsOn, with each component stood in for by the custom resources
// under it. Worked out through public API (the SDK's own serializer collects the inputs' resources).

import * as pulumi from "@pulumi/pulumi";

export interface Registration extends pulumi.ResourceTransformationArgs {
    /** Construction order. */
    order: number;
    /** The resources the registration depends on directly (started as it is constructed). */
    direct?: Promise<Set<pulumi.Resource>>;
}

/** dependsOn may hold resources, Outputs or promises of them, and lists of all three. */
async function explicit(dependsOn: unknown, into: Set<pulumi.Resource>): Promise<void> {
    if (dependsOn === undefined || dependsOn === null) return;
    if (Array.isArray(dependsOn)) {
        for (const d of dependsOn) await explicit(d, into);
    } else if (dependsOn instanceof Promise) {
        await explicit(await dependsOn, into);
    } else if (pulumi.Output.isInstance(dependsOn)) {
        await explicit(await new Promise((resolve) => dependsOn.apply(resolve)), into);
    } else if (pulumi.Resource.isInstance(dependsOn)) {
        into.add(dependsOn);
    }
}

/** Starts collecting a registration's direct dependencies; call it while the resource is constructed. */
export function directDependencies(args: pulumi.ResourceTransformationArgs): Promise<Set<pulumi.Resource>> {
    const found = new Set<pulumi.Resource>();
    return Promise.all([
        pulumi.runtime.serializeProperty(`${args.name}.inputs`, args.props, found),
        explicit(args.opts.dependsOn, found),
    ]).then(() => found);
}

/** Each resource's children, from the parents the registrations name. */
export type Children = ReadonlyMap<pulumi.Resource, readonly pulumi.Resource[]>;

export function childrenOf(all: readonly Registration[]): Children {
    const children = new Map<pulumi.Resource, pulumi.Resource[]>();
    for (const r of all) {
        const parent = r.opts.parent;
        if (parent) children.set(parent, [...(children.get(parent) ?? []), r.resource]);
    }
    return children;
}

/** The custom resources a set stands for: components are replaced by the customs beneath them. */
function expand(resources: Iterable<pulumi.Resource>, children: Children, self: pulumi.Resource) {
    const out = new Set<pulumi.Resource>();
    const seen = new Set<pulumi.Resource>();
    const visit = (r: pulumi.Resource) => {
        if (seen.has(r) || r === self) return;
        seen.add(r);
        if (r instanceof pulumi.CustomResource) {
            out.add(r);
            return;
        }
        (children.get(r) ?? []).forEach(visit);
    };
    [...resources].forEach(visit);
    return out;
}

export async function dependencyUrns(r: Registration, children: Children): Promise<string[]> {
    const direct = r.direct ? await r.direct : new Set<pulumi.Resource>();
    const urns = await Promise.all(
        [...expand(direct, children, r.resource)].map((d) => new Promise<string>((resolve) => d.urn.apply(resolve))),
    );
    return urns;
}
