// What the probe's tests share: the program's path, the real tools they need, and a reader of the
// Prometheus text format the probe writes.

import * as fs from "fs";
import * as path from "path";

export const PROGRAM_FILE = path.join(
    __dirname,
    "..",
    "..",
    "..",
    "components",
    "probe",
    "scripts",
    "throughput-probe.py",
);

/** A tool on PATH; under CI its absence fails the test (.ci/run installs the Debian package). */
export function findTool(tool: string, debianPackage: string): string | undefined {
    const found = (process.env["PATH"] ?? "")
        .split(path.delimiter)
        .map((d) => path.join(d, tool))
        .find((p) => fs.existsSync(p));
    if (!found && process.env["CI"]) throw new Error(`no ${tool}: .ci/run installs Debian's ${debianPackage}`);
    if (!found) console.warn(`${tool} not found: its checks are skipped (apt-get install ${debianPackage})`);
    return found;
}

export type Labels = Record<string, string>;

/** The samples of a textfile, by metric name and labels (in the probe's order: model, gpu, vm). */
export function parseMetrics(text: string) {
    const samples = text
        .split("\n")
        .filter((l) => l !== "" && !l.startsWith("#"))
        .map((l) => {
            const m = /^([a-z_]+)\{model="([^"]*)",gpu="([^"]*)",vm="([^"]*)"\} (\S+)$/.exec(l);
            if (!m) throw new Error(`not a probe sample: ${l}`);
            return { name: m[1], labels: { model: m[2], gpu: m[3], vm: m[4] }, value: Number(m[5]) };
        });
    const find = (name: string, labels: Labels) =>
        samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k as "model"] === v));
    return {
        samples,
        has: (name: string, labels: Labels) => find(name, labels) !== undefined,
        value(name: string, labels: Labels): number {
            const s = find(name, labels);
            if (!s) throw new Error(`no ${name}${JSON.stringify(labels)} in:\n${text}`);
            return s.value;
        },
    };
}
