// `npm run outdated`: every pinned version the project deploys (tools/outdatedPins.ts), where it is
// pinned, and, where this machine reaches the registry, the newest release. An unreachable registry is
// a line saying so, per source, never a failure: the list is still worth having offline.

import * as path from "path";
import { formatArg, parseCli, runMain, UsageError } from "./cli";
import { collectPins, Pin, Upstream } from "./outdatedPins";

const USAGE = `Usage: npm run outdated -- [--offline] [--format text|json]

Lists every version the project pins: the container images and models of each stack's VMs
(Pulumi.<stack>.yaml), the Debian package floors, Grafana and the PVE exporter (Pulumi.yaml or the
schema's defaults), the GitHub Actions runner (components/serviceLxc/cicdRunner.ts), and the npm
packages and Pulumi plugins (package.json), each with where it is pinned. Where the machine reaches
the registry it also shows the newest release: PyPI for Open WebUI, ChromaDB and the PVE exporter,
the Go module proxy for Ollama, the npm registry for the packages. A registry it cannot reach is
named, and the list is still printed.

Options:
  --offline       ask no registry
  --format text   a table (default)
  --format json   the pins as a JSON array, each with "newest" or "cannotCheck"
  -h, --help      this text

Exit status: 0 the list was printed (whatever is outdated); 2 bad usage.
docs/upgrading.md says how to bump a pin.`;

/** The registries' base URLs; tests point them at a local stub. */
export interface Registries {
    readonly pypi: string;
    readonly npm: string;
    readonly go: string;
}

export const PUBLIC_REGISTRIES: Registries = {
    pypi: "https://pypi.org/pypi",
    npm: "https://registry.npmjs.org",
    go: "https://proxy.golang.org",
};

/** The newest release of an upstream, or why it could not be checked. */
export type Newest = { readonly version: string } | { readonly cannotCheck: string };

/** A released version a.b.c (with an optional v), no pre-release: its numbers, else undefined. */
export function releaseNumbers(v: string): number[] | undefined {
    const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v.trim());
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Compares two release numbers; pre-releases and other forms sort below every release. */
export function compareReleases(a: string, b: string): number {
    const x = releaseNumbers(a);
    const y = releaseNumbers(b);
    if (!x || !y) return (x ? 1 : 0) - (y ? 1 : 0);
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
    return 0;
}

async function getText(url: string, timeoutMs: number): Promise<string> {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return res.text();
}

/**
 * The newest release of one upstream. PyPI's JSON API names it in info.version. The npm registry's
 * /<name>/latest is the "latest" dist-tag (a scoped name with its slash escaped). The Go proxy's
 * /@latest answers 404 for github.com/ollama/ollama (its tags carry no go.mod major path the proxy
 * resolves), so the newest is taken from /@v/list: the highest release, pre-releases left out.
 */
export async function newestRelease(up: Upstream, reg: Registries, timeoutMs = 8000): Promise<string> {
    switch (up.registry) {
        case "pypi": {
            const body = JSON.parse(await getText(`${reg.pypi}/${up.name}/json`, timeoutMs)) as {
                info?: { version?: unknown };
            };
            if (typeof body.info?.version !== "string") throw new Error(`PyPI gave no info.version for ${up.name}`);
            return body.info.version;
        }
        case "npm": {
            const body = JSON.parse(await getText(`${reg.npm}/${up.name.replace("/", "%2f")}/latest`, timeoutMs)) as {
                version?: unknown;
            };
            if (typeof body.version !== "string") throw new Error(`the npm registry gave no version for ${up.name}`);
            return body.version;
        }
        case "go": {
            const list = (await getText(`${reg.go}/${up.name.toLowerCase()}/@v/list`, timeoutMs))
                .split("\n")
                .map((l) => l.trim())
                .filter((v) => releaseNumbers(v) !== undefined)
                .sort(compareReleases);
            const top = list[list.length - 1];
            if (!top) throw new Error(`the Go proxy lists no release of ${up.name}`);
            return top.replace(/^v/, "");
        }
    }
}

const registryName: Record<Upstream["registry"], string> = {
    pypi: "PyPI",
    npm: "the npm registry",
    go: "the Go module proxy",
};

/**
 * Why a fetch failed: fetch's own "fetch failed" carries the network error (ECONNREFUSED, ENOTFOUND) as
 * its cause. Read by shape, not instanceof: fetch's errors come from another realm under jest.
 */
function reason(err: unknown): string {
    const message = (e: unknown) =>
        e !== null && typeof e === "object" && typeof (e as { message?: unknown }).message === "string"
            ? (e as { message: string }).message
            : undefined;
    const cause = err !== null && typeof err === "object" ? (err as { cause?: unknown }).cause : undefined;
    return message(cause) ?? message(err) ?? String(err);
}

/** The newest release of each pin's upstream, each upstream asked once; failures say why, per source. */
export async function lookUp(pins: readonly Pin[], reg: Registries, timeoutMs = 8000): Promise<Map<string, Newest>> {
    const keys = new Map<string, Upstream>();
    for (const p of pins) if (p.upstream) keys.set(`${p.upstream.registry}:${p.upstream.name}`, p.upstream);
    const answers = await Promise.all(
        [...keys].map(async ([key, up]): Promise<[string, Newest]> => {
            try {
                return [key, { version: await newestRelease(up, reg, timeoutMs) }];
            } catch (err) {
                return [key, { cannotCheck: `cannot check ${registryName[up.registry]}: ${reason(err)}` }];
            }
        }),
    );
    return new Map(answers);
}

export interface PinReport extends Pin {
    readonly newest?: string;
    readonly cannotCheck?: string;
    /** The pin is a release below the newest (a range or digest is never called outdated). */
    readonly outdated?: boolean;
}

/** Each pin with its upstream's answer; pins without an upstream get neither field. */
export function report(pins: readonly Pin[], newest: ReadonlyMap<string, Newest> | undefined): PinReport[] {
    return pins.map((p) => {
        if (!p.upstream) return p;
        if (!newest) return { ...p, cannotCheck: "not checked (--offline)" };
        const answer = newest.get(`${p.upstream.registry}:${p.upstream.name}`);
        if (!answer) return p;
        if ("cannotCheck" in answer) return { ...p, cannotCheck: answer.cannotCheck };
        const tag = `${p.tagPrefix ?? ""}${answer.version}`;
        const outdated = releaseNumbers(p.version) !== undefined && compareReleases(p.version, answer.version) < 0;
        return { ...p, newest: tag, outdated };
    });
}

/** The table: kind, name, pinned, newest (or "-"), where; then the registries that could not be asked. */
export function renderText(rows: readonly PinReport[]): string {
    const cells = rows.map((r) => [
        r.kind,
        r.name,
        r.version,
        r.newest !== undefined ? (r.outdated ? `${r.newest} (newer)` : r.newest) : r.cannotCheck ? "?" : "-",
        r.where,
    ]);
    const head = ["kind", "name", "pinned", "newest", "where"];
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
    const line = (c: string[]) =>
        c
            .map((s, i) => (i === c.length - 1 ? s : s.padEnd(widths[i] as number)))
            .join("  ")
            .trimEnd();
    const unchecked = [...new Set(rows.flatMap((r) => (r.cannotCheck ? [r.cannotCheck] : [])))];
    const outdated = rows.filter((r) => r.outdated).length;
    return [
        line(head),
        ...cells.map(line),
        "",
        ...unchecked.map((u) => `? ${u}`),
        `${rows.length} pins, ${outdated} with a newer release; "-" means no registry is asked for it.`,
    ].join("\n");
}

interface Options {
    offline: boolean;
    format: "text" | "json";
}

function parseArgs(argv: readonly string[]): Options | "help" {
    const opts: Options = { offline: false, format: "text" };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (arg === "-h" || arg === "--help") return "help";
        if (arg === "--offline") opts.offline = true;
        else if (arg === "--format" || arg.startsWith("--format=")) {
            const f = formatArg(arg, argv[i + 1], ["text", "json"] as const);
            opts.format = f.value;
            i += f.used;
        } else throw new UsageError(`unknown argument ${arg}`);
    }
    return opts;
}

export async function main(
    argv: readonly string[],
    root = path.resolve(__dirname, ".."),
    registries: Registries = PUBLIC_REGISTRIES,
): Promise<number> {
    const opts = parseCli("outdated", USAGE, () => parseArgs(argv));
    if (typeof opts === "number") return opts;
    const pins = collectPins(root);
    const rows = report(pins, opts.offline ? undefined : await lookUp(pins, registries));
    console.log(opts.format === "json" ? JSON.stringify(rows, null, 2) : renderText(rows));
    return 0;
}

if (require.main === module) runMain(main);
