// A stack state as if a preview's plan had been applied, built from the real engine's `pulumi preview --json`: the
// e2e suites cannot run `pulumi up` against a Proxmox host, yet a replace or delete only shows in a preview
// against existing state. Each custom resource gets an id derived from its URN and outputs equal to its inputs;
// provider references point at those ids. Values the preview still had unknown (ids of resources not yet created)
// come out empty, or a value of their type (computedFromSchema); a second round, from a preview against the first
// state, fills the ids in. The secrets the JSON masks come from a saved plan, encrypted for the stack (secretInputs).
// A local command (it runs on the machine running `up`) is run here, as its create would be, for its stdout.

import { execFileSync } from "child_process";

/** One step of `pulumi preview --json`, as far as the state needs it. */
export interface PreviewStep {
    op: string;
    urn: string;
    provider?: string;
    newState?: PreviewResource;
    oldState?: PreviewResource;
    replaceReasons?: string[];
    diffReasons?: string[];
    detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }> | null;
}

export interface PreviewResource {
    urn: string;
    custom?: boolean;
    type: string;
    inputs?: Record<string, unknown>;
    parent?: string;
    protect?: boolean;
    dependencies?: string[];
    provider?: string;
    propertyDependencies?: Record<string, string[]>;
}

/** The document `pulumi preview --json` prints. */
export interface PreviewJson {
    steps?: PreviewStep[];
    diagnostics?: { severity?: string; message?: string; urn?: string }[];
    changeSummary?: Record<string, number>;
}

/** `pulumi stack export`'s document (version 3), as far as this needs it. */
export interface Deployment {
    version: number;
    deployment: { resources?: Record<string, unknown>[] } & Record<string, unknown>;
}

/** The engine's stand-in for a value unknown during a preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * The id a custom resource gets in the built state, of the form Proxmox gives it where other resources check that
 * form (a file's `datastore:content/name`, a guest's VMID), else one plain to recognise.
 */
export function idOf(urn: string, inputs: Record<string, unknown> = {}): string {
    const { datastoreId, contentType, fileName, sourceRaw, vmId } = inputs as Record<string, unknown> & {
        sourceRaw?: { fileName?: string };
    };
    const file = typeof fileName === "string" ? fileName : sourceRaw?.fileName;
    if (typeof datastoreId === "string" && typeof file === "string") {
        return `${datastoreId}:${typeof contentType === "string" ? contentType : "snippets"}/${file}`;
    }
    if (typeof vmId === "number") return String(vmId);
    return `preview-${urn.slice(urn.lastIndexOf("::") + 2)}`;
}

/**
 * What the preview masked: a secret value prints as "[secret]". Where the provider needs an object (a command's
 * `connection`) the state gets a stand-in of that shape; a masked string stays as it is. Either differs from the
 * program's real value, so the next preview plans an update there, never a replace.
 */
const MASKED_SHAPES: Record<string, unknown> = { connection: { host: "[secret]", user: "root" } };

/** The signature key of a secret in a state file; an event's masked secret has "[secret]" for its ciphertext. */
const SIG = "4dabf18193072939515e22adb298388d";

/** A value the preview masked: "[secret]", or a secret whose ciphertext is "[secret]". */
function isMasked(value: unknown): boolean {
    return (
        value === "[secret]" ||
        (value !== null &&
            typeof value === "object" &&
            SIG in value &&
            (value as Record<string, unknown>)["ciphertext"] === "[secret]")
    );
}

/**
 * What a created resource holds where the plan had a value still to compute, by the output's name: a value of its
 * type (the proxmoxve outputs the program's resources leave to Proxmox); any other is a string. A computed output
 * must hold a value: left out, the next plan computes it again, and where it forces a new resource (a VM's disk
 * `fileId`) that would be a replace.
 */
const COMPUTED: Record<string, unknown> = {
    pos: 0,
    size: 0,
    units: 0,
    fileSize: 0,
    shared: false,
    protected: false,
    upgrade: false,
    ipv4: {},
    ipv6: {},
    ipv4Addresses: [],
    ipv6Addresses: [],
    macAddresses: [],
    networkInterfaceNames: [],
};

/** Outputs a plan leaves null that Proxmox assigns on create (a VM disk's volume), by name. */
const ASSIGNED: Record<string, unknown> = { fileId: "" };

/**
 * A value with what the preview masked replaced (MASKED_SHAPES), and what it did not know yet filled in: in outputs,
 * by COMPUTED; in inputs, empty (a reference to a resource not created yet, which the next round fills in).
 */
function withoutUnknowns(
    value: unknown,
    drop: boolean,
    key = "",
    computed: Readonly<Record<string, unknown>> = {},
): unknown {
    if (value === UNKNOWN) return computed[key] ?? COMPUTED[key] ?? "";
    if (value === null && drop && key in ASSIGNED) return ASSIGNED[key];
    if (isMasked(value)) return MASKED_SHAPES[key] ?? "[secret]";
    if (Array.isArray(value)) return value.map((v) => withoutUnknowns(v, drop, "", computed));
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutUnknowns(v, drop, k, computed)]));
    }
    return value;
}

/** Outputs a resource type's state must hold beyond its inputs. */
const OUTPUTS: Record<string, Record<string, unknown>> = { "command:remote:Command": { stdout: "", stderr: "" } };

/** What a local command's create prints, as the provider records it: the command run here (the preview key's ssh-keygen). */
function localOutputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    if (type !== "command:local:Command" || typeof inputs["create"] !== "string") return {};
    return { stdout: execFileSync("/bin/sh", ["-c", inputs["create"]], { encoding: "utf8" }).trimEnd(), stderr: "" };
}

/** `urn::id` with the id the built state gives that provider: the base state's, else idOf's. */
function providerRef(ref: string | undefined, ids: ReadonlyMap<string, string>): string | undefined {
    if (!ref) return undefined;
    const urn = ref.slice(0, ref.lastIndexOf("::"));
    return `${urn}::${ids.get(urn) ?? idOf(urn)}`;
}

/**
 * The engine's default providers (`default`, `default_1_2_1`), which the resources refer to but the preview lists no
 * step for; their one input is the plugin version their name carries.
 */
function defaultProviders(steps: PreviewStep[], have: Iterable<string>): Record<string, unknown>[] {
    const listed = new Set(have);
    const refs = new Set(steps.map((s) => s.newState?.provider).filter((p): p is string => p !== undefined));
    const urns = [...refs].map((ref) => ref.slice(0, ref.lastIndexOf("::"))).filter((urn) => !listed.has(urn));
    return [...new Set(urns)].map((urn) => {
        const [, type = "", name = ""] = /::(pulumi:providers:[^:]+)::(.+)$/.exec(urn) ?? [];
        const version = /^default_(\d+)_(\d+)_(\d+)$/.exec(name)?.slice(1).join(".");
        const inputs = version ? { version } : {};
        return { urn, custom: true, id: idOf(urn), type, inputs, outputs: inputs, dependencies: [] };
    });
}

/** A provider's schema (`pulumi package get-schema`), as far as property types go. */
interface ProviderSchema {
    resources?: Record<string, { properties?: Record<string, { type?: string }> }>;
    types?: Record<string, { properties?: Record<string, { type?: string }> }>;
}

const ZERO: Record<string, unknown> = { boolean: false, integer: 0, number: 0, string: "", array: [], object: {} };

/**
 * A value of its type for each property name in a provider's schema (resources and nested types alike), for the
 * outputs a plan left to compute; a name the schema gives two types is left out (COMPUTED, else a string).
 */
export function computedFromSchema(schema: ProviderSchema): Record<string, unknown> {
    const types = new Map<string, Set<string>>();
    for (const group of [schema.resources, schema.types]) {
        for (const { properties } of Object.values(group ?? {})) {
            for (const [name, p] of Object.entries(properties ?? {})) {
                if (p.type === undefined) continue;
                types.set(name, (types.get(name) ?? new Set()).add(p.type));
            }
        }
    }
    return Object.fromEntries(
        [...types].filter(([, t]) => t.size === 1).map(([name, t]) => [name, ZERO[[...t][0] as string] ?? ""]),
    );
}

/** `pulumi preview --save-plan`'s file, as far as its secret inputs go. */
export interface SavedPlan {
    resourcePlans?: Record<
        string,
        { goal?: { inputDiff?: { adds?: Record<string, unknown>; updates?: Record<string, unknown> } } }
    >;
}

/**
 * Each resource's secret inputs, encrypted for the stack, from a saved plan: where `pulumi preview --json` prints
 * "[secret]", these are the values themselves (a secret that forces a replacement, such as a PBS storage's password,
 * must be the same in the state as in the program).
 */
export function secretInputs(plan: SavedPlan): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const [urn, rp] of Object.entries(plan.resourcePlans ?? {})) {
        const diff = rp.goal?.inputDiff;
        const all = { ...diff?.adds, ...diff?.updates };
        const secret = Object.entries(all).filter(([, v]) => v !== null && typeof v === "object" && SIG in v);
        if (secret.length > 0) out.set(urn, Object.fromEntries(secret));
    }
    return out;
}

/** How stateFromPreview builds the state. */
export interface StateOptions {
    /** Each resource's secret inputs (secretInputs of a saved plan), for the values the preview masked. */
    readonly secrets?: ReadonlyMap<string, Record<string, unknown>>;
    /** A value per output name for what the plan left to compute (computedFromSchema); COMPUTED otherwise. */
    readonly computed?: Readonly<Record<string, unknown>>;
    /** Each resource's outputs as the provider planned them (EngineRun.outputsByUrn of the same preview). */
    readonly planned?: ReadonlyMap<string, Record<string, unknown>>;
    /** The resources to mark protected; default: as the preview's steps say, the current state's flag elsewhere. */
    readonly protect?: ReadonlySet<string>;
}

type StateResource = Record<string, unknown> & { urn: string; id?: string };

/** One resource of the state, from a step's new state: ids, provider references and outputs filled in. */
function fromStep(r: PreviewResource, ids: ReadonlyMap<string, string>, opts: StateOptions): StateResource {
    const { planned, computed } = opts;
    const secrets = opts.secrets?.get(r.urn) ?? {};
    // A masked top-level value takes the plan's encrypted one, in the inputs and the outputs alike.
    const unmask = (values: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(values).map(([k, v]) => [k, isMasked(v) && k in secrets ? secrets[k] : v]));
    const inputs = withoutUnknowns(unmask(r.inputs ?? {}), false, "", computed) as Record<string, unknown>;
    const custom = r.custom ?? false;
    const provider = providerRef(r.provider, ids);
    const id = idOf(r.urn, inputs);
    const outputs = withoutUnknowns(unmask(planned?.get(r.urn) ?? inputs), true, "", computed) as Record<
        string,
        unknown
    >;
    return {
        urn: r.urn,
        custom,
        ...(custom ? { id } : {}),
        type: r.type,
        inputs,
        outputs: custom
            ? { ...OUTPUTS[r.type], ...outputs, ...localOutputs(r.type, inputs), ...("id" in outputs ? { id } : {}) }
            : {},
        ...(r.parent ? { parent: r.parent } : {}),
        ...(r.protect ? { protect: true } : {}),
        dependencies: r.dependencies ?? [],
        ...(provider ? { provider } : {}),
        propertyDependencies: r.propertyDependencies ?? {},
    };
}

/**
 * The state a preview's plan leads to from the `current` one (exported): the resources the preview creates or
 * changes as its steps and planned outputs say, the others as they are (`pulumi preview --json` lists no step for
 * most unchanged ones), in the current deployment's manifest and secrets provider.
 */
export function stateFromPreview(preview: PreviewJson, current: Deployment, opts: StateOptions = {}): Deployment {
    const steps = preview.steps ?? [];
    const state = new Map(((current.deployment.resources ?? []) as StateResource[]).map((r) => [r.urn, r]));
    const ids = new Map([...state.values()].filter((r) => r.id).map((r) => [r.urn, r.id as string]));
    for (const step of steps) {
        if (step.op === "delete" || step.op === "delete-replaced") state.delete(step.urn);
        // A step that leaves the resource as it is, or a create of one the state holds (a preview from before it
        // was created), keeps the state's.
        else if (step.newState && !((step.op === "same" || step.op === "create") && state.has(step.urn))) {
            state.set(step.urn, fromStep(step.newState, ids, opts));
        }
    }
    for (const p of defaultProviders(steps, state.keys())) state.set(p["urn"] as string, p as StateResource);
    const resources = [...state.values()].map((r) => {
        if (!opts.protect) return r;
        const { protect: _, ...rest } = r;
        return opts.protect.has(r.urn) ? { ...rest, protect: true } : rest;
    });
    // A state file lists each resource after its parent, provider and dependencies.
    return { version: current.version, deployment: { ...current.deployment, resources: inDependencyOrder(resources) } };
}

/** Resources ordered so that each comes after its parent, its provider and its dependencies. */
function inDependencyOrder(resources: Record<string, unknown>[]): Record<string, unknown>[] {
    const byUrn = new Map(resources.map((r) => [r["urn"] as string, r]));
    const placed = new Set<string>();
    const out: Record<string, unknown>[] = [];
    const place = (r: Record<string, unknown>) => {
        const urn = r["urn"] as string;
        if (placed.has(urn)) return;
        placed.add(urn);
        const provider =
            typeof r["provider"] === "string" ? r["provider"].slice(0, r["provider"].lastIndexOf("::")) : "";
        const propertyDeps = Object.values((r["propertyDependencies"] ?? {}) as Record<string, string[]>).flat();
        const before = [r["parent"], provider, ...((r["dependencies"] ?? []) as string[]), ...propertyDeps];
        for (const dep of before) {
            const d = typeof dep === "string" ? byUrn.get(dep) : undefined;
            if (d) place(d);
        }
        out.push(r);
    };
    resources.forEach(place);
    return out;
}
