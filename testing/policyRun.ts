// Runs the policy pack offline against what the mock runtime recorded: each recorded resource is
// handed to the policies as the engine's analyzer would hand it (ResourceValidationArgs and
// PolicyResource from @pulumi/policy), without an engine. `npm run policy` and the policy tests go
// through here. The props are the resource's inputs, secrets unwrapped, as the analyzer sees them.

import type {
    EnforcementLevel,
    Policies,
    PolicyPackConfig,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";
import type { RecordedResource } from "./mockRuntime";

export interface Violation {
    policy: string;
    level: EnforcementLevel;
    /** The resource the violation is about; none for a stack-wide one. */
    urn?: string;
    message: string;
    fix?: string;
}

/** A pack config that waives a mandatory policy. */
export class WaiverError extends Error {}

/** What `args.notApplicable()` throws: the policy does not apply to this resource. */
class NotApplicable extends Error {}

type ResourceClass = { new (...rest: never[]): unknown; isInstance?: (obj: unknown) => boolean };

/**
 * Whether a resource of type `type` is of class `cls`. The engine compares the class's type token;
 * the SDK exposes the same comparison as the class's public `isInstance`.
 */
function isTypeOf(type: string, cls: ResourceClass): boolean {
    return cls.isInstance?.({ __pulumiType: type }) === true;
}

/** Options as the analyzer reports them; the recorder keeps protect and parent (not ignoreChanges, aliases, timeouts). */
function optionsOf(r: RecordedResource): PolicyResourceOptions {
    return {
        protect: r.protect,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.parent ? { parent: r.parent } : {}),
    };
}

/** The typed accessors and the config hooks every args object carries. */
function common(type: string, props: Record<string, unknown>, config: unknown) {
    return {
        stackTags: new Map<string, string>(),
        isType: (cls: ResourceClass) => isTypeOf(type, cls),
        asType: (cls: ResourceClass) => (isTypeOf(type, cls) ? props : undefined),
        getConfig: () => config,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

/** The args the engine passes to a resource policy, built from one recorded resource. */
export function resourceArgs(
    r: RecordedResource,
    all: readonly RecordedResource[] = [],
    config: unknown = {},
): ResourceValidationArgs {
    const providerUrn = r.provider?.split("::").slice(0, -1).join("::");
    const provider = all.find((p) => p.urn === providerUrn);
    return {
        type: r.type,
        props: r.inputs,
        urn: r.urn,
        name: r.name,
        opts: optionsOf(r),
        ...(provider
            ? { provider: { type: provider.type, props: provider.inputs, urn: provider.urn, name: provider.name } }
            : {}),
        ...common(r.type, r.inputs, config),
    } as ResourceValidationArgs;
}

/** The resources as a stack policy sees them, parents and dependencies linked. */
export function stackResources(all: readonly RecordedResource[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    for (const r of all) {
        byUrn.set(r.urn, {
            type: r.type,
            props: r.inputs,
            urn: r.urn,
            name: r.name,
            opts: optionsOf(r),
            dependencies: [],
            propertyDependencies: {},
            ...common(r.type, r.inputs, {}),
        } as unknown as PolicyResource);
    }
    for (const r of all) {
        const pr = byUrn.get(r.urn)!;
        if (r.parent) pr.parent = byUrn.get(r.parent);
        pr.dependencies = r.dependencies.flatMap((u) => byUrn.get(u) ?? []);
    }
    return [...byUrn.values()];
}

/** A policy's entry in the pack config, which may be just a level ("disabled") or an object. */
function entryOf(
    config: PolicyPackConfig,
    name: string,
): { level?: EnforcementLevel; settings: Record<string, unknown> } {
    const entry = config[name];
    if (entry === undefined) return { settings: {} };
    if (typeof entry === "string") return { level: entry, settings: {} };
    const { enforcementLevel, ...settings } = entry;
    return { ...(enforcementLevel ? { level: enforcementLevel } : {}), settings };
}

/** The level a policy runs at: the pack config's, else its own; only an advisory one may be waived. */
export function levelOf(
    policy: { name: string; enforcementLevel?: EnforcementLevel },
    config: PolicyPackConfig,
): EnforcementLevel {
    const own = policy.enforcementLevel ?? "advisory";
    const set = entryOf(config, policy.name).level;
    if (set === "disabled" && own === "mandatory") {
        throw new WaiverError(`${policy.name}: a mandatory policy cannot be waived; fix the violation instead`);
    }
    return set ?? own;
}

/** Runs a callback, ignoring a not-applicable verdict. */
async function guarded(run: () => Promise<void> | void): Promise<void> {
    try {
        await run();
    } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
    }
}

/** Runs every policy of `policies` against the recorded resources; returns the violations. */
export async function runPolicies(
    policies: Policies,
    resources: readonly RecordedResource[],
    config: PolicyPackConfig = {},
): Promise<Violation[]> {
    const out: Violation[] = [];
    for (const p of policies) {
        const level = levelOf(p, config);
        if (level === "disabled") continue;
        const policyConfig = entryOf(config, p.name).settings;
        const report =
            (urn?: string): ReportViolation =>
            (message, at) =>
                out.push({
                    policy: p.name,
                    level,
                    message,
                    fix: p.remediationSteps,
                    ...((at ?? urn) ? { urn: at ?? urn } : {}),
                });
        if ("validateStack" in p) {
            const args = { resources: stackResources(resources), ...common("", {}, policyConfig) };
            await guarded(() => p.validateStack(args as unknown as StackValidationArgs, report()));
            continue;
        }
        const validators = p.validateResource === undefined ? [] : [p.validateResource].flat();
        for (const r of resources) {
            for (const v of validators) await guarded(() => v(resourceArgs(r, resources, policyConfig), report(r.urn)));
        }
    }
    return out;
}
