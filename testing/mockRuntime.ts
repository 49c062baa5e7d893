// Runs the Pulumi program in the SDK's mock runtime and records every registration: type, name,
// inputs, parent, provider, dependencies, protect, and the description its component gave it. The
// offline plan, the tests and the bench all go through here. Only public SDK API is used: a stack
// transformation sees each resource as it is constructed (the engine-side registerResourceTransform
// is refused in mock mode), and the mocks see its inputs. Mocks are strict: a resource class this
// program does not use, or an invoke, throws.

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { descriptionOf } from "../components/describe";
import { ceilingTokensPerSecond, requiredRate } from "../providers/ollama/measure";
import { ModelThroughput } from "../providers/ollama/modelThroughput";
import { childrenOf, dependencyUrns, directDependencies, Registration } from "./dependencies";

export interface RecordedResource {
    /** The resource object: match it by class (`instanceof`), never by a hand-typed type string. */
    resource: pulumi.Resource;
    urn: string;
    type: string;
    name: string;
    /** False for component resources. */
    custom: boolean;
    /** Inputs as the provider would receive them, secrets unwrapped (see secretInputs). */
    inputs: Record<string, unknown>;
    /** Top-level input names whose value (or part of it) is a secret. */
    secretInputs: string[];
    parent?: string;
    /** The explicit provider reference (`urn::id`), if any. */
    provider?: string;
    dependencies: string[];
    protect: boolean;
    /** What the component that built it says it does (components/describe.ts). */
    description?: string;
}

export interface OfflineRun<T> {
    resources: RecordedResource[];
    /** What the program returned (stack outputs), resolved; values unknown at plan time are undefined. */
    outputs: pulumi.Unwrap<T> | undefined;
    /** What the program threw, if it failed; `resources` then holds what it registered before. */
    error?: Error;
    /** The warnings it logged (pulumi.log.warn), which `pulumi up` would show. */
    warnings: string[];
}

type ResourceClass = abstract new (...args: never[]) => pulumi.Resource;

/** The custom resource classes this program may register; anything else is a bug. */
export const KNOWN_CLASSES: readonly ResourceClass[] = [
    proxmoxve.Provider,
    proxmoxve.VmLegacy,
    proxmoxve.ContainerLegacy,
    proxmoxve.FileLegacy,
    proxmoxve.download.File,
    proxmoxve.hardware.mapping.Pci,
    proxmoxve.node.disk.Zfs,
    proxmoxve.storage.Zfspool,
    proxmoxve.network.linux.Bridge,
    proxmoxve.network.linux.Vlan,
    proxmoxve.firewall.OptionsLegacy,
    proxmoxve.firewall.RulesLegacy,
    proxmoxve.firewall.IpsetLegacy,
    proxmoxve.cluster.firewall.security.GroupLegacy,
    proxmoxve.RoleLegacy,
    proxmoxve.PoolLegacy,
    proxmoxve.UserLegacy,
    proxmoxve.AclLegacy,
    proxmoxve.user.TokenLegacy,
    proxmoxve.Acl,
    proxmoxve.user.Token,
    proxmoxve.storage.Pbs,
    proxmoxve.backup.Job,
    command.remote.Command,
    command.local.Command,
    docker.Provider,
    docker.RemoteImage,
    docker.Container,
    docker.Network,
    docker.Volume,
    ModelThroughput,
];

/** The class a resource was built from, among the known ones. */
export function classOf(resource: pulumi.Resource): ResourceClass | undefined {
    return KNOWN_CLASSES.find((cls) => resource instanceof cls);
}

/** Plausible provider-computed outputs, so that dependent values resolve in the plan. */
function computedState(
    resource: pulumi.Resource | undefined,
    inputs: Record<string, unknown>,
): Record<string, unknown> {
    const field = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v) : "?");
    if (resource instanceof command.remote.Command) return { stdout: "", stderr: "" };
    // The preview key's ssh-keygen (components/host/previewAccess.ts): a stand-in pair in the same shape.
    if (resource instanceof command.local.Command) {
        const comment = /-C (\S+)/.exec(field(inputs["create"]))?.[1] ?? "key";
        return {
            stdout: `-----BEGIN OPENSSH PRIVATE KEY-----\nstand-in\n-----END OPENSSH PRIVATE KEY-----\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockPreviewKey ${comment}\n`,
            stderr: "",
        };
    }
    if (resource instanceof proxmoxve.download.File) {
        return { id: `${field(inputs["datastoreId"])}:${field(inputs["contentType"])}/${field(inputs["fileName"])}` };
    }
    if (resource instanceof proxmoxve.FileLegacy) {
        const raw = inputs["sourceRaw"] as { fileName?: string } | undefined;
        return { id: `${field(inputs["datastoreId"])}:${field(inputs["contentType"])}/${field(raw?.fileName)}` };
    }
    if (resource instanceof proxmoxve.VmLegacy) return { ipv4Addresses: [], macAddresses: [] };
    // The engine learns a new token's secret once, at create time; a stand-in here.
    if (resource instanceof proxmoxve.user.TokenLegacy || resource instanceof proxmoxve.user.Token) {
        return {
            value: `${field(inputs["userId"])}!${field(inputs["tokenName"])}=00000000-0000-0000-0000-000000000000`,
        };
    }
    // The engine reports the pulled image's id; the pinned reference stands in for it here.
    if (resource instanceof docker.RemoteImage) return { imageId: field(inputs["name"]), repoDigest: "" };
    if (resource instanceof ModelThroughput) return plannedGate(inputs);
    return {};
}

/**
 * The gate's figures that do not need a measurement, by the gate's own maths: the mocks hold no
 * model, so its size is unknown (0 bytes), the card's ceiling is 0 (none known) and the required
 * rate is minTokensPerSecond, whatever share of the roofline minEfficiency asks. The measured
 * figures (tokensPerSecond, residency, ...) stay unknown, as in a preview.
 */
function plannedGate(inputs: Record<string, unknown>): Record<string, unknown> {
    const gpu = inputs["gpu"] as { memoryBandwidthGBs?: unknown } | undefined;
    const ceiling = ceilingTokensPerSecond(Number(gpu?.memoryBandwidthGBs), 0);
    const minEfficiency = inputs["minEfficiency"];
    const need = requiredRate({
        minTokensPerSecond: Number(inputs["minTokensPerSecond"]),
        ...(typeof minEfficiency === "number" ? { minEfficiency } : {}),
        ceiling,
    });
    return { ceilingTokensPerSecond: ceiling, requiredTokensPerSecond: need.tokensPerSecond };
}

/** A secret as the runtime serializes it: the signature key holding the secret signature. */
function isSecretValue(v: unknown): v is { value: unknown } {
    return (
        v !== null &&
        typeof v === "object" &&
        (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
    );
}

/** Removes the runtime's secret wrappers; reports whether any were found. */
function unwrap(v: unknown): { value: unknown; secret: boolean } {
    if (isSecretValue(v)) return { value: unwrap(v.value).value, secret: true };
    if (Array.isArray(v)) {
        const items = v.map(unwrap);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (v !== null && typeof v === "object") {
        const entries = Object.entries(v).map(([k, x]) => [k, unwrap(x)] as const);
        return {
            value: Object.fromEntries(entries.map(([k, x]) => [k, x.value])),
            secret: entries.some(([, x]) => x.secret),
        };
    }
    return { value: v, secret: false };
}

/** What the mocks see of a registration: its inputs as sent, and its provider reference. */
interface Sent {
    inputs: Record<string, unknown>;
    secretInputs: string[];
    provider?: string;
}

/** Strict mocks over the registrations seen so far (keyed `type::name`). */
function strictMocks(registrations: ReadonlyMap<string, Registration>, sent: Map<string, Sent>): pulumi.runtime.Mocks {
    return {
        newResource(args) {
            const key = `${args.type}::${args.name}`;
            const resource = registrations.get(key)?.resource;
            const inputs = args.inputs as Record<string, unknown>;
            const plain: Record<string, unknown> = {};
            const secret: string[] = [];
            for (const [k, v] of Object.entries(inputs)) {
                const u = unwrap(v);
                plain[k] = u.value;
                if (u.secret) secret.push(k);
            }
            sent.set(key, {
                inputs: plain,
                secretInputs: secret,
                ...(args.provider ? { provider: args.provider } : {}),
            });
            if (args.custom === false) return { id: undefined, state: inputs };
            const { id: computedId, ...computed } = computedState(resource, inputs);
            const id = typeof computedId === "string" ? computedId : `${args.name}-id`;
            return { id, state: { ...inputs, ...computed } };
        },
        call(args) {
            throw new Error(`Mock not implemented: ${args.token}`);
        },
    };
}

/** Refuses, as the mocks' strictness, a class or component this program does not use. */
function checkKnown(args: pulumi.ResourceTransformationArgs): void {
    const custom = args.resource instanceof pulumi.CustomResource;
    if (custom && !classOf(args.resource)) {
        throw new Error(`Mock not implemented: resource ${args.type} (${args.name})`);
    }
    if (!custom && !args.type.startsWith("ai-dualstack:")) {
        throw new Error(`Mock not implemented: component ${args.type} (${args.name})`);
    }
}

/** Collects pulumi.log.warn lines, which print to the console when no engine is attached. */
function captureWarnings(): { warnings: string[]; restore: () => void } {
    const warnings: string[] = [];
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = args.map(String).join(" ");
        const m = /^warning: \[runtime\] (.*)$/s.exec(text);
        if (m) warnings.push(m[1] as string);
        else consoleWarn(...args);
    };
    return { warnings, restore: () => (console.warn = consoleWarn) };
}

/**
 * Runs `program` as a Pulumi stack under strict mocks with the given config, and returns what it
 * registered. `preview` mirrors `pulumi preview` (outputs of new resources would be unknown).
 */
export async function runOffline<T>(opts: {
    project?: string;
    stack: string;
    config: Record<string, string>;
    secretKeys?: string[];
    preview?: boolean;
    program: () => T | Promise<T>;
    /** A stack transformation applied to every resource before it is recorded, as a program change would be. */
    transform?: pulumi.ResourceTransformation;
}): Promise<OfflineRun<T>> {
    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    const registrations = new Map<string, Registration>();
    const sent = new Map<string, Sent>();
    await pulumi.runtime.setMocks(
        strictMocks(registrations, sent),
        opts.project ?? "ai-dualstack",
        opts.stack,
        opts.preview ?? true,
    );
    let outputs: T | undefined;
    let error: Error | undefined;
    const capture = captureWarnings();
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            if (opts.transform) pulumi.runtime.registerStackTransformation(opts.transform);
            pulumi.runtime.registerStackTransformation((args) => {
                checkKnown(args);
                registrations.set(`${args.type}::${args.name}`, {
                    ...args,
                    order: registrations.size,
                    direct: directDependencies(args),
                });
                return undefined;
            });
            // Caught here rather than by the stack, whose own rejection would go unhandled.
            try {
                outputs = await opts.program();
            } catch (err) {
                error = err instanceof Error ? err : new Error(String(err));
            }
            return outputs;
        });
        await pulumi.runtime.disconnect();
    } finally {
        capture.restore();
    }
    const resources = await record(registrations, sent);
    if (error !== undefined) return { resources, outputs: undefined, error, warnings: capture.warnings };
    const resolved = outputs === undefined ? undefined : await resolveOutputs(outputs);
    return { resources, outputs: resolved as pulumi.Unwrap<T> | undefined, warnings: capture.warnings };
}

/** The registrations the mocks received, in construction order, the stack resource first. */
async function record(registrations: Map<string, Registration>, sent: Map<string, Sent>): Promise<RecordedResource[]> {
    const stack = pulumi.runtime.getStackResource();
    const all: Registration[] = [
        ...(stack ? [{ resource: stack, type: "pulumi:pulumi:Stack", name: "", props: {}, opts: {}, order: -1 }] : []),
        ...[...registrations.values()].filter((r) => sent.has(`${r.type}::${r.name}`)),
    ];
    const urnOf = (r: pulumi.Resource) => new Promise<string>((resolve) => r.urn.apply(resolve));
    const children = childrenOf(all);
    const byResource = new Map(all.map((r) => [r.resource, r] as const));
    const recorded = await Promise.all(
        all.map(async (r): Promise<RecordedResource> => {
            const urn = await urnOf(r.resource);
            const s = sent.get(`${r.type}::${r.name}`);
            const parent = r.opts.parent ?? (r.resource === stack ? undefined : stack);
            const description = descriptionOf(r.resource);
            return {
                resource: r.resource,
                urn,
                type: r.resource === stack ? "pulumi:pulumi:Stack" : r.type,
                name: r.resource === stack ? (urn.split("::").pop() ?? "") : r.name,
                custom: r.resource instanceof pulumi.CustomResource,
                inputs: s?.inputs ?? {},
                secretInputs: s?.secretInputs ?? [],
                ...(parent ? { parent: await urnOf(parent) } : {}),
                ...(s?.provider ? { provider: s.provider } : {}),
                dependencies: await dependencyUrns(r, children),
                protect: protectOf(r, byResource),
                ...(description !== undefined ? { description } : {}),
            };
        }),
    );
    return recorded;
}

/** `protect` as the SDK settles it: the resource's own, else its parent's. */
function protectOf(r: Registration, byResource: ReadonlyMap<pulumi.Resource, Registration>): boolean {
    if (r.opts.protect !== undefined) return r.opts.protect;
    const parent = r.opts.parent ? byResource.get(r.opts.parent) : undefined;
    return parent ? protectOf(parent, byResource) : false;
}

/** Resolves nested Outputs to plain values (unknowns become undefined). */
async function resolveOutputs(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        // An unknown Output never runs its apply callbacks; isKnown is public at runtime, not in the typings.
        const known = await (value as unknown as { isKnown: Promise<boolean> }).isKnown;
        if (!known) return undefined;
        return new Promise((resolve) => value.apply((v) => resolve(resolveOutputs(v))));
    }
    if (Array.isArray(value)) return Promise.all(value.map(resolveOutputs));
    if (value !== null && typeof value === "object" && !(value instanceof pulumi.Resource)) {
        const entries = await Promise.all(
            Object.entries(value).map(async ([k, v]) => [k, await resolveOutputs(v)] as const),
        );
        return Object.fromEntries(entries);
    }
    return value;
}
