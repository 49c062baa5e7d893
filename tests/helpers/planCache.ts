// Each committed stack planned once per jest run, not once per test file: the first suite that asks
// plans it and writes the plan to this run's cache folder; the others read it. The folder is made
// by tests/helpers/planCacheSetup.ts (the `stacks` project's globalSetup) and removed when the run
// ends, so no plan outlives the code it was planned from. A plan with edited config is not cached:
// plan it with runStack(stack, overrides) or planStack.
//
// A cached resource's `resource` is a stand-in: an object of the resource's own class (custom
// resources, KNOWN_CLASSES) or of ComponentResource (components), so `instanceof` and the plan's
// renderers work on it; nothing else of the live object is kept. ofType refuses component classes
// on a cached plan rather than finding none.

import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import * as pulumi from "@pulumi/pulumi";
import { classOf, KNOWN_CLASSES, RecordedResource } from "../../testing/mockRuntime";
import { PlannedStack, planStack } from "../../testing/planStack";
import { PLAN_CACHE_ENV } from "./planCacheSetup";

const STAND_IN = Symbol("planCache.standIn");

/** Whether a recorded resource's object is a cached plan's stand-in. */
export function isStandIn(resource: pulumi.Resource): boolean {
    return (resource as unknown as Record<symbol, unknown>)[STAND_IN] === true;
}

type Stored = Omit<PlannedStack, "resources"> & {
    resources: (Omit<RecordedResource, "resource"> & { cls: number })[];
};

/** JSON has no undefined; an output unknown at plan time is one, so it travels as this marker. */
const UNDEFINED = { "planCache:undefined": true };

function restoreUndefined(value: unknown): unknown {
    if (isDeepStrictEqual(value, UNDEFINED)) return undefined;
    if (Array.isArray(value)) return value.map(restoreUndefined);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restoreUndefined(v)]));
    }
    return value;
}

function serialize(planned: PlannedStack): string {
    const stored: Stored = {
        ...planned,
        resources: planned.resources.map(({ resource, ...rest }) => {
            const cls = resource instanceof pulumi.CustomResource ? classOf(resource) : undefined;
            return { ...rest, cls: cls ? KNOWN_CLASSES.indexOf(cls) : -1 };
        }),
    };
    const text = JSON.stringify(stored, (_key, value: unknown) => (value === undefined ? UNDEFINED : value));
    // Anything else JSON would change (a class instance, NaN, a Buffer) would make the cache lie.
    if (!isDeepStrictEqual(restoreUndefined(JSON.parse(text)), stored)) {
        throw new Error(`the ${planned.stack} plan does not survive JSON: it cannot be cached`);
    }
    return text;
}

function standIn(cls: number): pulumi.Resource {
    const proto: object | undefined =
        cls >= 0 ? (KNOWN_CLASSES[cls]?.prototype as object | undefined) : pulumi.ComponentResource.prototype;
    if (!proto) throw new Error(`the plan cache names resource class #${cls}, which mockRuntime does not know`);
    return Object.create(proto, { [STAND_IN]: { value: true } }) as pulumi.Resource;
}

function deserialize(text: string): PlannedStack {
    const stored = restoreUndefined(JSON.parse(text)) as Stored;
    return {
        ...stored,
        resources: stored.resources.map(({ cls, ...rest }) => ({ ...rest, resource: standIn(cls) })),
    };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for another worker's plan of the stack (or its failure). */
async function waitFor(file: string, failed: string, stack: string): Promise<string> {
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
        if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
        if (fs.existsSync(failed)) throw new Error(`planning ${stack} failed: ${fs.readFileSync(failed, "utf8")}`);
        await sleep(100);
    }
    throw new Error(`no plan of ${stack} in ${path.dirname(file)} after 300 s (the suite planning it died?)`);
}

/** Plans the stack here and shares it through the cache folder. */
async function planAndShare(stack: string, file: string, failed: string): Promise<string> {
    try {
        const text = serialize(await planStack(stack));
        fs.writeFileSync(`${file}.tmp`, text);
        fs.renameSync(`${file}.tmp`, file);
        return text;
    } catch (err) {
        fs.writeFileSync(failed, err instanceof Error ? (err.stack ?? err.message) : String(err));
        throw err;
    }
}

/** The plan's text, from this run's cache, planned here if no suite has yet. */
async function cachedText(stack: string): Promise<string> {
    const dir = process.env[PLAN_CACHE_ENV];
    if (!dir) return serialize(await planStack(stack));
    const file = path.join(dir, `${stack}.json`);
    const failed = path.join(dir, `${stack}.failed`);
    try {
        fs.closeSync(fs.openSync(path.join(dir, `${stack}.lock`), "wx"));
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        return waitFor(file, failed, stack);
    }
    return planAndShare(stack, file, failed);
}

const texts = new Map<string, Promise<string>>();

/**
 * The committed stack's plan (its own files, hosts assumed ready), as planStack(stack) returns it,
 * planned once per run. Each call returns a fresh copy, so a test that edits it affects no other.
 */
export async function committedPlan(stack: string): Promise<PlannedStack> {
    let text = texts.get(stack);
    if (!text) {
        text = cachedText(stack);
        texts.set(stack, text);
    }
    return deserialize(await text);
}
