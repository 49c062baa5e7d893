// A stack's golden file (tests/stacks/golden/<stack>.txt): what the offline plan prints, a short
// table of the inputs that matter read straight from the registered inputs, and one short hash per
// resource of its whole registration, so that a change to any registered input changes a line
// that names the resource, and every other change reads as a plain diff.

import { createHash } from "crypto";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { ModelThroughput } from "../../providers/ollama/modelThroughput";
import type { RecordedResource } from "../../testing/mockRuntime";
import type { PlannedStack } from "../../testing/planStack";
import { renderPlan } from "../../tools/plan";
import { ofType } from "./pulumi";

/**
 * The one input that changes without any change of what is deployed, asserted elsewhere: the
 * serialized code of the gate's dynamic provider (tests/providers/modelThroughput.live.test.ts runs it).
 */
function stable(inputs: Record<string, unknown>): Record<string, unknown> {
    const out = { ...inputs };
    if (typeof out["__provider"] === "string") out["__provider"] = "<serialized dynamic provider>";
    return out;
}

/** JSON with object keys sorted at every level, so that a hash depends on content only. */
function canonical(value: unknown): string {
    return JSON.stringify(value, (_key, v: unknown) =>
        v !== null && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
            : v,
    );
}

const hash = (value: unknown) => createHash("sha256").update(canonical(value)).digest("hex").slice(0, 12);

/** The registration as `pulumi up` would send it: what the old whole-plan snapshot held. */
function registration(r: RecordedResource): unknown {
    return {
        type: r.type,
        name: r.name,
        custom: r.custom,
        parent: r.parent,
        provider: r.provider,
        dependencies: [...new Set(r.dependencies)].sort(),
        protect: r.protect,
        secretInputs: [...r.secretInputs].sort(),
        inputs: stable(r.inputs),
    };
}

/** Fixed-width columns, the header first. */
function table(header: string[], rows: string[][]): string[] {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join("  ")
            .trimEnd();
    return [line(header), ...rows.map(line)];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === "object" ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const text = (v: unknown): string =>
    v === undefined || v === null ? "-" : typeof v === "string" ? v : JSON.stringify(v);

/** Pinning and hugepages are set by the guest's start step on the node; its description says which. */
function startStep(resources: readonly RecordedResource[], guest: string): string {
    const step = resources.find((r) => r.name === `${guest}-tune` || r.name === `${guest}-start`);
    const m = /pinned (?:to )?(\d[\d-]*(?:,\d[\d-]*)*)(?:, hugepages (\S+))?/.exec(step?.description ?? "");
    return m ? `${m[1]}${m[2] ? ` / ${m[2]}` : ""}` : "-";
}

function guests(resources: readonly RecordedResource[]): string[] {
    const rows = [
        ...ofType(resources, proxmoxve.VmLegacy).map((r) => ({
            r,
            kind: "vm",
            nics: list(r.inputs["networkDevices"]),
        })),
        ...ofType(resources, proxmoxve.ContainerLegacy).map((r) => ({
            r,
            kind: "ct",
            nics: list(r.inputs["networkInterfaces"]),
        })),
    ].map(({ r, kind, nics }) => [
        r.name,
        kind,
        text(r.inputs["vmId"]),
        text(r.inputs["nodeName"]),
        text(obj(r.inputs["cpu"])["cores"]),
        startStep(resources, r.name),
        text(obj(r.inputs["memory"])["dedicated"]),
        list(r.inputs["hostpcis"])
            .map((p) => text(p["mapping"]))
            .join(",") || "-",
        nics.map((n) => `${text(n["bridge"])}${n["firewall"] === true ? "+fw" : ""}`).join(",") || "-",
        r.protect ? "yes" : "no",
    ]);
    const header = ["guest", "kind", "id", "node", "cores", "pinning / hugepages", "MiB", "GPU", "bridge", "protect"];
    return table(header, rows);
}

function firewallRules(resources: readonly RecordedResource[]): string[] {
    const rows = ofType(resources, proxmoxve.firewall.RulesLegacy).flatMap((r) =>
        list(r.inputs["rules"]).map((rule) =>
            rule["securityGroup"] !== undefined
                ? [r.name, "", "group", "", text(rule["securityGroup"]), ""]
                : [
                      r.name,
                      text(rule["type"]),
                      text(rule["action"]),
                      `${text(rule["proto"])}/${text(rule["dport"])}`,
                      text(rule["type"] === "out" ? rule["dest"] : rule["source"]).replace(/^-$/, "any"),
                      rule["enabled"] === false ? "disabled" : "",
                  ],
        ),
    );
    return table(["rules", "dir", "action", "proto/port", "peer", ""], rows);
}

function gates(resources: readonly RecordedResource[]): string[] {
    const rows = ofType(resources, ModelThroughput).map((r) => [
        r.name,
        text(r.inputs["model"]),
        text(obj(r.inputs["gpu"])["name"]),
        text(r.inputs["minTokensPerSecond"]),
        text(r.inputs["minEfficiency"]),
        text(r.inputs["requireGpu"]),
        `${text(r.inputs["runs"])} x ${text(r.inputs["numPredict"])}`,
    ]);
    return table(["gate", "model", "GPU", "tokens/s", "efficiency", "in VRAM", "runs x tokens"], rows);
}

/** The golden file's text for a planned stack. */
export function renderGolden(planned: PlannedStack, regenerate: string): string {
    const sorted = [...planned.resources].sort((a, b) => `${a.type}::${a.name}`.localeCompare(`${b.type}::${b.name}`));
    return [
        `# The ${planned.stack} stack's offline plan, the inputs that matter, and a hash of each registration.`,
        `# Generated; after a deliberate change, review the diff and run: ${regenerate}`,
        "",
        `## npm run plan -- ${planned.stack}`,
        "",
        ...renderPlan(planned),
        "",
        "## Guests (registered inputs; pinning and hugepages from the guest's start step)",
        "",
        ...guests(planned.resources),
        "",
        "## Firewall rules (registered inputs, in order)",
        "",
        ...firewallRules(planned.resources),
        "",
        "## Throughput gates",
        "",
        ...gates(planned.resources),
        "",
        "## Registrations: sha256 prefix of each one's type, name, parent, provider, dependencies, protect,",
        "## secret input names and all inputs (the gate's serialized provider code excepted); and of the outputs",
        "",
        ...sorted.map((r) => `${hash(registration(r))}  ${r.type} ${r.name}`),
        `${hash(planned.outputs ?? null)}  outputs`,
        "",
    ].join("\n");
}
