// Helpers for tests that run code in Pulumi's mock runtime (strict mocks, see testing/mockRuntime.ts).

import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, runOffline } from "../../testing/mockRuntime";
import { planStack } from "../../testing/planStack";
import { committedPlan, isStandIn } from "./planCache";

/** Registers whatever `program` builds, under strict mocks, and returns the registrations. */
export async function record(program: () => unknown, config: Record<string, string> = {}): Promise<RecordedResource[]> {
    const run = await runOffline({ stack: "test", config, program: () => void program() });
    if (run.error !== undefined) throw run.error;
    return run.resources;
}

/**
 * Runs the real program for a stack, as the offline plan does, with optional config edits. The
 * committed stack (no edits) is planned once per jest run and shared (tests/helpers/planCache.ts).
 */
export function runStack(stack: string, overrides?: Record<string, unknown>) {
    return overrides ? planStack(stack, { overrides }) : committedPlan(stack);
}

type ResourceClass = abstract new (...args: never[]) => pulumi.Resource;

/** All registrations of a resource class (matched by the class itself, never a typed string). */
export function ofType(resources: readonly RecordedResource[], cls: ResourceClass): RecordedResource[] {
    // A cached plan keeps custom resources' classes only: a component class would match nothing.
    if (!(cls.prototype instanceof pulumi.CustomResource) && resources.some((r) => isStandIn(r.resource))) {
        throw new Error(`${cls.name} is a component class: a cached plan cannot match it; use planStack`);
    }
    return resources.filter((r) => r.resource instanceof cls);
}

/** The one registration of a class, failing the test when there are none or several. */
export function one(resources: readonly RecordedResource[], cls: ResourceClass, name?: string): RecordedResource {
    const found = ofType(resources, cls).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) {
        throw new Error(`expected one ${cls.name}${name ? ` named ${name}` : ""}, found ${found.length}`);
    }
    return found[0] as RecordedResource;
}

/** Resolves an Output in a test, asserting that it is known and defined. */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve, reject) =>
        output.apply((value) => {
            if (value === undefined) reject(new Error("output resolved to undefined"));
            else resolve(value);
        }),
    );
}
