// Runs the Pulumi program in the SDK's mock runtime and records every registration: type, name,
// inputs, parent, provider, dependencies and protect. The offline plan, the tests and the bench
// all go through here. Mocks are strict: an unexpected resource type or invoke throws.

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { MODEL_THROUGHPUT_TYPE } from "../providers/ollama/modelThroughput";

export interface RecordedResource {
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

/** A resource class's type token, read from the SDK (public at runtime, missing from its typings). */
export function typeToken(cls: abstract new (...args: never[]) => pulumi.Resource): string {
    const token = (cls as unknown as { __pulumiType?: unknown }).__pulumiType;
    if (typeof token !== "string") throw new Error(`${cls.name} has no type token`);
    return token;
}

const PROVIDER_TOKENS = new Map<unknown, string>([
    [proxmoxve.Provider, "pulumi:providers:proxmoxve"],
    [docker.Provider, "pulumi:providers:docker"],
]);

/** The resource classes this program may register, by type token; anything else is a bug. */
export const KNOWN_CLASSES: ReadonlyMap<
    string,
    new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource
> = new Map(
    [
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
        proxmoxve.cluster.firewall.security.GroupLegacy,
        command.remote.Command,
        docker.Provider,
        docker.RemoteImage,
        docker.Container,
        docker.Network,
        docker.Volume,
    ].map((cls) => [PROVIDER_TOKENS.get(cls) ?? typeToken(cls), cls as never]),
);

/** Dynamic resources of this project (their provider is code here, not a plugin). */
export const DYNAMIC_TYPES: ReadonlySet<string> = new Set([MODEL_THROUGHPUT_TYPE]);

export const KNOWN_TYPES: ReadonlySet<string> = new Set([...KNOWN_CLASSES.keys(), ...DYNAMIC_TYPES]);

/** Plausible provider-computed outputs, so that dependent values resolve in the plan. */
function computedState(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const field = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v) : "?");
    switch (type) {
        case typeToken(command.remote.Command):
            return { stdout: "", stderr: "" };
        case typeToken(proxmoxve.download.File):
            return {
                id: `${field(inputs["datastoreId"])}:${field(inputs["contentType"])}/${field(inputs["fileName"])}`,
            };
        case typeToken(proxmoxve.FileLegacy): {
            const raw = inputs["sourceRaw"] as { fileName?: string } | undefined;
            return { id: `${field(inputs["datastoreId"])}:${field(inputs["contentType"])}/${field(raw?.fileName)}` };
        }
        case typeToken(proxmoxve.VmLegacy):
            return { ipv4Addresses: [], macAddresses: [] };
        // The engine reports the pulled image's id; the pinned reference stands in for it here.
        case typeToken(docker.RemoteImage):
            return { imageId: field(inputs["name"]), repoDigest: "" };
        default:
            return {};
    }
}

export const strictMocks: pulumi.runtime.Mocks = {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
        const isComponent = args.custom === false;
        if (!isComponent && !KNOWN_TYPES.has(args.type)) {
            throw new Error(`Mock not implemented: resource ${args.type} (${args.name})`);
        }
        if (isComponent && !args.type.startsWith("ai-dualstack:") && args.type !== "pulumi:pulumi:Stack") {
            throw new Error(`Mock not implemented: component ${args.type} (${args.name})`);
        }
        const inputs = args.inputs as Record<string, unknown>;
        const { id: computedId, ...computed } = computedState(args.type, inputs);
        const id = typeof computedId === "string" ? computedId : `${args.name}-id`;
        return { id: isComponent ? undefined : id, state: { ...inputs, ...computed } };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        throw new Error(`Mock not implemented: ${args.token}`);
    },
};

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function isSecretValue(v: unknown): v is { value: unknown } {
    return v !== null && typeof v === "object" && SECRET_SIG in v;
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

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getParent(): string;
    getProvider(): string;
    getDependenciesList(): string[];
    getProtect(): boolean;
}
interface RegisterResponse {
    getUrn(): string;
}
type Callback = (err: Error | null, resp?: RegisterResponse) => void;
interface PatchableMonitor {
    registerResource(req: RegisterRequest, cb: Callback): unknown;
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
}): Promise<OfflineRun<T>> {
    const project = opts.project ?? "ai-dualstack";
    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    const inputs = new Map<string, { plain: Record<string, unknown>; secret: string[] }>();
    const mocks: pulumi.runtime.Mocks = {
        newResource(args) {
            const result = strictMocks.newResource(args) as { id: string | undefined; state: Record<string, unknown> };
            const plain: Record<string, unknown> = {};
            const secret: string[] = [];
            for (const [k, v] of Object.entries(args.inputs as Record<string, unknown>)) {
                const u = unwrap(v);
                plain[k] = u.value;
                if (u.secret) secret.push(k);
            }
            inputs.set(`${args.type}::${args.name}`, { plain, secret });
            return result;
        },
        call: (args) => strictMocks.call(args),
    };
    await pulumi.runtime.setMocks(mocks, project, opts.stack, opts.preview ?? true);

    const resources: RecordedResource[] = [];
    const monitor = pulumi.runtime.getMonitor() as unknown as PatchableMonitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) =>
        register(req, (err, resp) => {
            if (!err && resp) {
                const key = `${req.getType()}::${req.getName()}`;
                const recorded = inputs.get(key);
                resources.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    custom: req.getCustom(),
                    inputs: recorded?.plain ?? {},
                    secretInputs: recorded?.secret ?? [],
                    parent: req.getParent() || undefined,
                    provider: req.getProvider() || undefined,
                    dependencies: req.getDependenciesList(),
                    protect: req.getProtect(),
                });
            }
            cb(err, resp);
        });

    let outputs: T | undefined;
    let error: Error | undefined;
    let failed = false;
    // Without an engine, pulumi.log.warn prints to the console; collect those lines instead.
    const warnings: string[] = [];
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = args.map(String).join(" ");
        const m = /^warning: \[runtime\] (.*)$/s.exec(text);
        if (m) warnings.push(m[1] as string);
        else consoleWarn(...args);
    };
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            // Caught here rather than by the stack, whose own rejection would go unhandled.
            try {
                outputs = await opts.program();
            } catch (err) {
                failed = true;
                error = err instanceof Error ? err : new Error(String(err));
            }
            return outputs;
        });
        await pulumi.runtime.disconnect();
    } finally {
        console.warn = consoleWarn;
    }
    if (failed) return { resources, outputs: undefined, error, warnings };
    const resolved = outputs === undefined ? undefined : await resolveOutputs(outputs);
    return { resources, outputs: resolved as pulumi.Unwrap<T> | undefined, warnings };
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
