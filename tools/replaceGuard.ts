// The replace guard: reads `pulumi preview --json` and fails when the preview would replace or delete a protected
// resource (a GPU VM, a ZFS pool or its storage, a data container), naming the resource and the property that
// forces it. The pull-request workflow runs it after each stack's preview (docs/policy.md).

import * as fs from "fs";
import { formatArg, parseCli, runMain, UsageError } from "./cli";

const USAGE = `Usage: npm run replace-guard -- <preview.json | -> [--format text|json]

Reads the output of \`pulumi preview --json\` (a file, or - for stdin) and fails when the preview would
replace or delete a protected resource: one the stack's state marks protect (the GPU VMs, the ZFS
pools and their storage, the data containers), or a GPU VM, ZFS pool or ZFS storage whatever its
flag. Each finding names the resource, what the step does and the properties that force it. It also
prints "RESTART BY HAND" for a GPU VM whose change Proxmox applies only at the next start (the
provider never restarts one), without failing.

Options:
  --format text   one line per finding (default)
  --format json   the findings as a JSON array
  -h, --help      this text

Exit status: 0 nothing protected is replaced or deleted; 1 something is, or the input holds no
preview; 2 bad usage.

Example:
  pulumi preview --stack private --json > preview.json; npm run replace-guard -- preview.json`;

/** What the guard reads of a step of `pulumi preview --json`. */
interface Step {
    op?: string;
    urn?: string;
    oldState?: { type?: string; protect?: boolean; inputs?: Record<string, unknown> };
    newState?: { type?: string };
    replaceReasons?: string[] | null;
    diffReasons?: string[] | null;
    detailedDiff?: Record<string, { kind?: string; inputDiff?: boolean }> | null;
}

/** A protected resource the preview would replace or delete. */
export interface Finding {
    urn: string;
    name: string;
    /** What it is: "GPU VM", "ZFS pool", "ZFS storage", "container" or the resource type. */
    kind: string;
    /** "replace" or "delete". */
    op: "replace" | "delete";
    /** The properties that force the replacement (empty for a delete). */
    properties: string[];
}

/** Steps that destroy what exists: a replacement's delete half counts once, with its replace. */
const REPLACING = new Set(["replace", "create-replacement", "delete-replaced"]);
const DELETING = new Set(["delete", "discard"]);

function kindOf(type: string, inputs: Record<string, unknown> = {}): string | undefined {
    if (type === "proxmoxve:index/vmLegacy:VmLegacy") {
        return Array.isArray(inputs["hostpcis"]) && inputs["hostpcis"].length > 0 ? "GPU VM" : "VM";
    }
    if (type === "proxmoxve:node/disk/zfs:Zfs") return "ZFS pool";
    if (type === "proxmoxve:storage/zfspool:Zfspool") return "ZFS storage";
    if (type === "proxmoxve:index/containerLegacy:ContainerLegacy") return "container";
    return undefined;
}

/** Always guarded, whatever the state's flag says: a PR that turns protect off and replaces in one go is caught. */
const ALWAYS = new Set(["GPU VM", "ZFS pool", "ZFS storage"]);

/**
 * The properties that force the replacement: the provider's replaceReasons, or, where the provider decided it
 * itself (`__meta`, a Terraform CustomizeDiff), the properties whose value changes.
 */
function forcing(step: Step): string[] {
    const reasons = (step.replaceReasons ?? []).filter((r) => r !== "__meta");
    if (reasons.length > 0) return reasons;
    const changed = Object.entries(step.detailedDiff ?? {})
        .filter(([k, d]) => k !== "__meta" && /^update/.test(d.kind ?? ""))
        .map(([k]) => k);
    return changed.length > 0 ? changed : (step.diffReasons ?? []).filter((r) => r !== "__meta");
}

/** The protected resources the preview would replace or delete, one finding per resource. */
export function findProtectedChanges(preview: { steps?: Step[] }): Finding[] {
    const findings = new Map<string, Finding>();
    for (const step of preview.steps ?? []) {
        const op = REPLACING.has(step.op ?? "") ? "replace" : DELETING.has(step.op ?? "") ? "delete" : undefined;
        if (!op || !step.urn || findings.has(step.urn)) continue;
        const type = step.oldState?.type ?? step.newState?.type ?? "";
        const kind = kindOf(type, step.oldState?.inputs);
        const guarded = step.oldState?.protect === true || (kind !== undefined && ALWAYS.has(kind));
        if (!guarded) continue;
        findings.set(step.urn, {
            urn: step.urn,
            name: step.urn.slice(step.urn.lastIndexOf("::") + 2),
            kind: kind ?? type,
            op,
            properties: op === "replace" ? forcing(step) : [],
        });
    }
    return [...findings.values()];
}

/**
 * VmLegacy inputs that Proxmox applies to a running VM only at its next start: qemu-server hotplugs
 * only what its `hotplug` option lists, by default "network,disk,usb" (src/PVE/QemuServer.pm, the
 * `hotplug` option; the rest stays pending in the VM config). Cloud-init changes are read at boot.
 */
const NEEDS_RESTART = new Set([
    "agent",
    "audioDevices",
    "bios",
    "cpu",
    "efiDisk",
    "hostpcis",
    "initialization",
    "kvmArguments",
    "machine",
    "memory",
    "numas",
    "operatingSystem",
    "scsiHardware",
    "serialDevices",
    "smbios",
    "tabletDevice",
    "tpmState",
    "vga",
]);

/** A GPU VM update that waits for a restart by hand: the provider never restarts a GPU VM. */
export interface Restart {
    urn: string;
    name: string;
    /** The changed inputs that Proxmox applies only at the next start. */
    properties: string[];
}

/** The GPU VMs the preview updates in place with inputs that take effect only at their next start. */
export function findRestarts(preview: { steps?: Step[] }): Restart[] {
    return (preview.steps ?? []).flatMap((step) => {
        if (step.op !== "update" || !step.urn) return [];
        if (kindOf(step.oldState?.type ?? "", step.oldState?.inputs) !== "GPU VM") return [];
        const changed = Object.keys(step.detailedDiff ?? {}).map((k) => k.split(/[.[]/)[0] as string);
        const properties = [...new Set([...changed, ...(step.diffReasons ?? [])])].filter((p) => NEEDS_RESTART.has(p));
        if (properties.length === 0) return [];
        return [{ urn: step.urn, name: step.urn.slice(step.urn.lastIndexOf("::") + 2), properties: properties.sort() }];
    });
}

export function describeRestart(r: Restart): string {
    return `RESTART BY HAND: the preview changes ${r.properties.join(", ")} of GPU VM ${r.name}, which Proxmox applies only at its next start; the provider never restarts a GPU VM (rebootAfterUpdate: false), so shut it down and start it yourself when the card may be reset (docs/deploying.md, "Restarting a GPU VM") (${r.urn})`;
}

export function describeFinding(f: Finding): string {
    const why =
        f.op === "delete"
            ? "the program no longer declares it"
            : f.properties.length > 0
              ? `${f.properties.join(", ")} ${f.properties.length === 1 ? "forces" : "force"} the replacement`
              : "the provider forces the replacement";
    return `BLOCKED: the preview would ${f.op} ${f.kind} ${f.name}: ${why} (${f.urn})`;
}

export interface GuardOptions {
    input: string;
    format: "text" | "json";
}

export function parseArgs(argv: readonly string[]): GuardOptions | "help" {
    let input: string | undefined;
    let format: GuardOptions["format"] = "text";
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "-h" || arg === "--help") return "help";
        if (arg === "--format" || arg.startsWith("--format=")) {
            const { value, used } = formatArg(arg, argv[i + 1], ["text", "json"] as const);
            format = value;
            i += used;
        } else if (arg !== "-" && arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
        else if (input !== undefined) throw new UsageError("name one preview file");
        else input = arg;
    }
    if (input === undefined) throw new UsageError("name the preview's JSON file, or - for stdin");
    return { input, format };
}

/** The preview document, or the reason there is none. */
function readPreview(input: string): { steps?: Step[] } | string {
    let text: string;
    try {
        text = fs.readFileSync(input === "-" ? 0 : input, "utf8");
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        const why = code === "ENOENT" ? "no such file" : `cannot be read (${code})`;
        return `${input}: ${why}; write it first with \`pulumi preview --stack <stack> --json > ${input}\``;
    }
    try {
        const doc = JSON.parse(text) as unknown;
        if (doc !== null && typeof doc === "object" && Array.isArray((doc as { steps?: unknown }).steps)) {
            return doc;
        }
    } catch {
        // reported below
    }
    return `${input === "-" ? "stdin" : input} holds no preview (\`pulumi preview --json\` prints {"steps": [...]})`;
}

export function main(argv: readonly string[]): Promise<number> {
    return Promise.resolve(guard(argv));
}

function guard(argv: readonly string[]): number {
    const opts = parseCli("replace-guard", USAGE, () => parseArgs(argv));
    if (typeof opts === "number") return opts;
    const preview = readPreview(opts.input);
    if (typeof preview === "string") {
        console.error(`replace-guard: ${preview}`);
        return 1;
    }
    const findings = findProtectedChanges(preview);
    const restarts = findRestarts(preview);
    if (opts.format === "json") {
        console.log(
            JSON.stringify(
                [...findings, ...restarts.map((r) => ({ ...r, kind: "GPU VM", op: "restart-by-hand" }))],
                null,
                2,
            ),
        );
        return findings.length === 0 ? 0 : 1;
    }
    // A restart is a notice, not a block: the change is applied, and waits for the user's restart.
    for (const r of restarts) console.log(describeRestart(r));
    if (findings.length === 0) {
        console.log(
            `replace guard: no protected resource is replaced or deleted (${preview.steps?.length ?? 0} steps)`,
        );
    } else {
        for (const f of findings) console.log(describeFinding(f));
        console.log("Keep the resource: undo the change, or follow docs/policy.md (replacing a protected resource).");
    }
    return findings.length === 0 ? 0 : 1;
}

if (require.main === module) runMain(main);
