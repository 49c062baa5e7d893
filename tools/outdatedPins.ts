// Every version the project pins, and where: the workloads' container images and models (the stack
// files), the Debian package floors, the runner, Grafana and the PVE exporter (code and schema
// defaults, or Pulumi.yaml where it sets them), and the npm packages and Pulumi plugins (package.json).
// Plain functions over a checkout's files; `npm run outdated` prints them (tools/outdated.ts).

import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { BackupServerSchema } from "../config/schema/backup";
import { MonitoringVersionsSchema } from "../config/schema/monitoring";
import { RUNNER_VERSION } from "../components/serviceLxc/cicdRunner";
import { BOUNCER_MIN_VERSION, CROWDSEC_MIN_VERSION } from "../components/serviceLxc/crowdsec";

/** Where a newer release of a pin can be asked for; absent when no registry is asked. */
export type Upstream =
    | { readonly registry: "pypi"; readonly name: string }
    | { readonly registry: "npm"; readonly name: string }
    | { readonly registry: "go"; readonly name: string };

export type PinKind = "image" | "model" | "debian" | "runner" | "apt" | "pypi" | "npm" | "plugin";

export interface Pin {
    readonly kind: PinKind;
    /** What is pinned: an image repository, a model, a package. */
    readonly name: string;
    /** The pinned version, tag, digest or range, as written. */
    readonly version: string;
    /** Where to change it: `file:line`, or the file and constant. */
    readonly where: string;
    readonly upstream?: Upstream;
    /** How the newest release maps onto this pin's tag (an image's "v" prefix). */
    readonly tagPrefix?: string;
}

/**
 * Images whose releases a registry this machine can usually reach also publishes: the project's own
 * package index (PyPI for Open WebUI and ChromaDB, the Go module proxy for Ollama). The assumption is
 * that each release there has an image tag of the same number in the image's usual naming
 * (ghcr.io/open-webui/open-webui:v0.x.y, chromadb/chroma:x.y.z, ollama/ollama:x.y.z).
 */
export const IMAGE_UPSTREAMS: Readonly<Record<string, { upstream: Upstream; tagPrefix: string }>> = {
    "ghcr.io/open-webui/open-webui": { upstream: { registry: "pypi", name: "open-webui" }, tagPrefix: "v" },
    "chromadb/chroma": { upstream: { registry: "pypi", name: "chromadb" }, tagPrefix: "" },
    "ollama/ollama": { upstream: { registry: "go", name: "github.com/ollama/ollama" }, tagPrefix: "" },
};

/** npm packages that are Pulumi resource providers: each installs the plugin of its own version. */
const PLUGIN_PACKAGES = new Set(["@pulumi/command", "@pulumi/docker", "@muhlba91/pulumi-proxmoxve"]);

/** The 1-based line of the first line of `text` that contains `needle` after `from`, or undefined. */
function lineOf(text: string, needle: string, from = 0): number | undefined {
    const lines = text.split("\n");
    for (let i = from; i < lines.length; i++) if (lines[i]?.includes(needle)) return i + 1;
    return undefined;
}

const at = (file: string, line: number | undefined) => (line === undefined ? file : `${file}:${line}`);

type Yaml = Record<string, unknown>;
const obj = (v: unknown): Yaml => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Yaml) : {});

/** The images and models of one stack file's VMs, and the images of its containers' services if any. */
export function stackPins(file: string, text: string): Pin[] {
    const config = obj(obj(parse(text)).config);
    const pins: Pin[] = [];
    for (const [vmName, vm] of Object.entries(obj(config["ai-dualstack:vms"]))) {
        const vmLine = (lineOf(text, `${vmName}:`) ?? 1) - 1;
        for (const svc of Object.values(obj(obj(vm).services))) {
            const image = obj(svc).image;
            if (typeof image !== "string") continue;
            const [repo, tag] = splitImage(image);
            const known = IMAGE_UPSTREAMS[repo];
            pins.push({
                kind: "image",
                name: repo,
                version: tag,
                where: at(file, lineOf(text, `image: ${image}`, vmLine)),
                ...(known ? { upstream: known.upstream, tagPrefix: known.tagPrefix } : {}),
            });
        }
        const models = obj(vm).models;
        for (const m of Array.isArray(models) ? models : []) {
            const { name, digest } = obj(m);
            if (typeof name !== "string") continue;
            pins.push({
                kind: "model",
                name,
                version: typeof digest === "string" ? digest : "(tag only, no digest)",
                where: at(file, lineOf(text, `name: ${name}`, vmLine)),
            });
        }
    }
    return pins;
}

/** `repo:tag` or `repo@sha256:...`; a registry host's port is not a tag. */
export function splitImage(image: string): [string, string] {
    const at = image.indexOf("@");
    if (at >= 0) return [image.slice(0, at), image.slice(at + 1)];
    const colon = image.lastIndexOf(":");
    if (colon > image.lastIndexOf("/")) return [image.slice(0, colon), image.slice(colon + 1)];
    return [image, "latest"];
}

/** Pulumi.yaml's monitoring versions where it sets them, else the schema's defaults. */
function monitoringPins(projectText: string): Pin[] {
    const project = obj(obj(parse(projectText)).config);
    const set = obj(obj(obj(project.monitoring).value).versions);
    const versions = MonitoringVersionsSchema.parse(Object.keys(set).length > 0 ? set : undefined);
    const where = (key: string) =>
        key in set ? at("Pulumi.yaml", lineOf(projectText, `${key}:`)) : "config/schema/monitoring.ts (default)";
    return [
        { kind: "debian", name: "prometheus (floor)", version: versions.prometheus, where: where("prometheus") },
        {
            kind: "debian",
            name: "prometheus-alertmanager (floor)",
            version: versions.alertmanager,
            where: where("alertmanager"),
        },
        {
            kind: "debian",
            name: "prometheus-node-exporter (floor)",
            version: versions.nodeExporter,
            where: where("nodeExporter"),
        },
        { kind: "apt", name: "grafana (apt.grafana.com)", version: versions.grafana, where: where("grafana") },
        {
            kind: "pypi",
            name: "prometheus-pve-exporter",
            version: versions.pveExporter,
            where: where("pveExporter"),
            upstream: { registry: "pypi", name: "prometheus-pve-exporter" },
        },
    ];
}

/** Versions fixed in code. */
function codePins(): Pin[] {
    return [
        {
            kind: "runner",
            name: "actions/runner",
            version: RUNNER_VERSION,
            where: "components/serviceLxc/cicdRunner.ts RUNNER_VERSION (and RUNNER_SHA256)",
        },
        {
            kind: "debian",
            name: "crowdsec (floor)",
            version: CROWDSEC_MIN_VERSION,
            where: "components/serviceLxc/crowdsec.ts CROWDSEC_MIN_VERSION",
        },
        {
            kind: "debian",
            name: "crowdsec-firewall-bouncer (floor)",
            version: BOUNCER_MIN_VERSION,
            where: "components/serviceLxc/crowdsec.ts BOUNCER_MIN_VERSION",
        },
        {
            kind: "debian",
            name: "proxmox-backup-server (floor)",
            version: BackupServerSchema.shape.version.parse(undefined),
            where: "config/schema/backup.ts (default; backup.server.version)",
        },
    ];
}

/** package.json's dependencies and devDependencies; the provider packages also as Pulumi plugins. */
export function packagePins(text: string): Pin[] {
    const pkg = obj(JSON.parse(text));
    const pins: Pin[] = [];
    for (const field of ["dependencies", "devDependencies"]) {
        for (const [name, version] of Object.entries(obj(pkg[field]))) {
            if (typeof version !== "string") continue;
            pins.push({
                kind: PLUGIN_PACKAGES.has(name) ? "plugin" : "npm",
                name,
                version,
                where: at("package.json", lineOf(text, `"${name}":`)),
                upstream: { registry: "npm", name },
            });
        }
    }
    return pins;
}

/** Every pin of the checkout at `root`: the stack files' in name order, then code, then package.json. */
export function collectPins(root: string): Pin[] {
    const read = (f: string) => fs.readFileSync(path.join(root, f), "utf8");
    const stackFiles = fs
        .readdirSync(root)
        .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
        .sort();
    return [
        ...stackFiles.flatMap((f) => stackPins(f, read(f))),
        ...monitoringPins(read("Pulumi.yaml")),
        ...codePins(),
        ...packagePins(read("package.json")),
    ];
}
