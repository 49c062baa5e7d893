// A one-line description of what a resource does, set by the component that builds it, for the
// offline plan to print beside the resource. Commands whose work is a script say here what the
// script does, so the plan never reads bash back.

import * as pulumi from "@pulumi/pulumi";

const descriptions = new WeakMap<pulumi.Resource, string>();

/** Records `text` as the resource's description and returns the resource. */
export function describe<R extends pulumi.Resource>(text: string, resource: R): R {
    descriptions.set(resource, text);
    return resource;
}

/** The description a component gave the resource, if any. */
export function descriptionOf(resource: pulumi.Resource): string | undefined {
    return descriptions.get(resource);
}
