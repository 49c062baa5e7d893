// `npm run outdated`: the pins read from a checkout's files, and the newest releases asked of a local
// stub on 127.0.0.1 that answers with registry replies recorded on 2026-12-04 (tests/fixtures/outdated:
// PyPI's JSON for open-webui trimmed to a few releases, npm's "latest" of @pulumi/pulumi, the Go proxy's
// @v/list of github.com/ollama/ollama as it came). A registry that fails is a line, never a failure.

import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { RUNNER_VERSION } from "../../components/serviceLxc/cicdRunner";
import { compareReleases, lookUp, main, newestRelease, Registries, renderText, report } from "../../tools/outdated";
import { collectPins, Pin, splitImage, stackPins } from "../../tools/outdatedPins";

const FIXTURES = path.join(__dirname, "../fixtures/outdated");
const fixture = (f: string) => fs.readFileSync(path.join(FIXTURES, f), "utf8");
const ROOT = path.resolve(__dirname, "../..");

let server: http.Server;
let base: string;
const asked: string[] = [];

beforeAll(async () => {
    server = http.createServer((req, res) => {
        const url = req.url ?? "";
        asked.push(url);
        const answers: Record<string, string> = {
            "/pypi/open-webui/json": fixture("pypi-open-webui.json"),
            "/npm/@pulumi%2fpulumi/latest": fixture("npm-pulumi-pulumi-latest.json"),
            "/go/github.com/ollama/ollama/@v/list": fixture("go-ollama-v-list.txt"),
            // The recorded list has no pre-release; one is added here so that leaving them out is tested.
            "/go-rc/github.com/ollama/ollama/@v/list": `${fixture("go-ollama-v-list.txt")}v0.18.0-rc1\n`,
        };
        const body = answers[url];
        res.writeHead(body === undefined ? 404 : 200).end(body ?? "not found");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const registries = (): Registries => ({ pypi: `${base}/pypi`, npm: `${base}/npm`, go: `${base}/go` });

test("an image's repository and tag, a registry port and a digest kept apart", () => {
    expect(splitImage("ghcr.io/open-webui/open-webui:v0.7.2")).toEqual(["ghcr.io/open-webui/open-webui", "v0.7.2"]);
    expect(splitImage("registry.local:5000/ollama")).toEqual(["registry.local:5000/ollama", "latest"]);
    expect(splitImage("chromadb/chroma@sha256:abc")).toEqual(["chromadb/chroma", "sha256:abc"]);
});

test("a stack file's images and models, each with its line and the upstream it is checked against", () => {
    const text = [
        "config:",
        "  ai-dualstack:vms:",
        "    ai:",
        "      models:",
        "        - name: mistral:7b",
        "          digest: sha256:0123456789ab",
        "      services:",
        "        ollama:",
        "          image: ollama/ollama:0.11.4",
        "        chat:",
        "          image: ghcr.io/open-webui/open-webui:v0.7.2 # a comment",
        "        proxy:",
        "          image: traefik:v3.5.3",
    ].join("\n");
    expect(stackPins("Pulumi.x.yaml", text)).toEqual([
        {
            kind: "image",
            name: "ollama/ollama",
            version: "0.11.4",
            where: "Pulumi.x.yaml:9",
            upstream: { registry: "go", name: "github.com/ollama/ollama" },
            tagPrefix: "",
        },
        {
            kind: "image",
            name: "ghcr.io/open-webui/open-webui",
            version: "v0.7.2",
            where: "Pulumi.x.yaml:11",
            upstream: { registry: "pypi", name: "open-webui" },
            tagPrefix: "v",
        },
        { kind: "image", name: "traefik", version: "v3.5.3", where: "Pulumi.x.yaml:13" },
        { kind: "model", name: "mistral:7b", version: "sha256:0123456789ab", where: "Pulumi.x.yaml:5" },
    ]);
});

test("the checkout's pins: every stack's images, the runner, the floors, Grafana, and package.json", () => {
    const pins = collectPins(ROOT);
    const lines = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8").split("\n");
    // Each image's `where` points at the line that pins it.
    for (const p of pins.filter((x) => x.kind === "image")) {
        const [file, line] = p.where.split(":") as [string, string];
        expect(lines(file)[Number(line) - 1]).toContain(`image: ${p.name}:${p.version}`);
    }
    const images = (file: string) => pins.filter((p) => p.kind === "image" && p.where.startsWith(`${file}:`));
    expect(images("Pulumi.private.yaml").map((p) => p.name)).toContain("ghcr.io/open-webui/open-webui");
    expect(images("Pulumi.public.yaml").map((p) => p.name)).toEqual(
        expect.arrayContaining(["chromadb/chroma", "ollama/ollama", "traefik"]),
    );
    expect(pins.find((p) => p.kind === "runner")).toMatchObject({ name: "actions/runner", version: RUNNER_VERSION });
    expect(pins.find((p) => p.name.startsWith("grafana"))?.where).toBe("config/schema/monitoring.ts (default)");
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
    };
    expect(pins.find((p) => p.name === "@pulumi/docker")).toMatchObject({
        kind: "plugin",
        version: pkg.dependencies["@pulumi/docker"],
    });
    expect(pins.find((p) => p.name === "zod")).toMatchObject({ kind: "npm", upstream: { registry: "npm" } });
});

test("releases compare by number, and pre-releases sort below them", () => {
    expect(compareReleases("0.6.5", "0.17.4")).toBeLessThan(0);
    expect(compareReleases("v0.12.4", "0.12.4")).toBe(0);
    expect(compareReleases("0.18.0-rc1", "0.17.4")).toBeLessThan(0);
});

test("the newest release from PyPI, the npm registry and the Go proxy's list, by number", async () => {
    const reg = registries();
    expect(await newestRelease({ registry: "pypi", name: "open-webui" }, reg)).toBe("0.12.4");
    expect(await newestRelease({ registry: "npm", name: "@pulumi/pulumi" }, reg)).toBe("3.276.0");
    // Listed first, v0.6.5 would win a sort by text.
    expect(await newestRelease({ registry: "go", name: "github.com/ollama/ollama" }, reg)).toBe("0.17.4");
    expect(
        await newestRelease({ registry: "go", name: "github.com/ollama/ollama" }, { ...reg, go: `${base}/go-rc` }),
    ).toBe("0.17.4");
});

const pin = (name: string, version: string, upstream: Pin["upstream"], tagPrefix?: string): Pin => ({
    kind: "image",
    name,
    version,
    where: "Pulumi.x.yaml:1",
    ...(upstream ? { upstream } : {}),
    ...(tagPrefix !== undefined ? { tagPrefix } : {}),
});

test("each upstream is asked once; a release behind is outdated, with the newest in the image's tag form", async () => {
    asked.length = 0;
    const pins = [
        pin("ghcr.io/open-webui/open-webui", "v0.7.2", { registry: "pypi", name: "open-webui" }, "v"),
        pin("ghcr.io/open-webui/open-webui", "v0.12.4", { registry: "pypi", name: "open-webui" }, "v"),
        pin("traefik", "v3.5.3", undefined),
    ];
    const rows = report(pins, await lookUp(pins, registries()));
    expect(asked).toEqual(["/pypi/open-webui/json"]);
    expect(rows.map((r) => [r.version, r.newest, r.outdated])).toEqual([
        ["v0.7.2", "v0.12.4", true],
        ["v0.12.4", "v0.12.4", false],
        ["v3.5.3", undefined, undefined],
    ]);
    expect(renderText(rows)).toContain('3 pins, 1 with a newer release; "-" means no registry is asked for it.');
});

test("a registry that answers 404 or cannot be reached is named per source, and the rest still answers", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const pins = [
        pin("chromadb/chroma", "0.6.3", { registry: "pypi", name: "chromadb" }),
        pin("ollama/ollama", "0.11.4", { registry: "go", name: "github.com/ollama/ollama" }),
        pin("@pulumi/pulumi", "3.248.0", { registry: "npm", name: "@pulumi/pulumi" }),
    ];
    const rows = report(pins, await lookUp(pins, { ...registries(), go: `http://127.0.0.1:${deadPort}/go` }, 2000));
    expect(rows[0]?.cannotCheck).toBe(`cannot check PyPI: ${base}/pypi/chromadb/json answered 404`);
    expect(rows[1]?.cannotCheck).toMatch(/^cannot check the Go module proxy: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    expect(rows[2]).toMatchObject({ newest: "3.276.0", outdated: true });
    const text = renderText(rows);
    expect(text).toContain(`? cannot check PyPI: ${base}/pypi/chromadb/json answered 404`);
    expect(text).toMatch(/^image +chromadb\/chroma +0\.6\.3 +\? +Pulumi\.x\.yaml:1$/m);
});

test("--offline asks nothing and says so; --help and a bad argument exit 0 and 2", async () => {
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    const error = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
        asked.length = 0;
        expect(await main(["--offline", "--format", "json"], ROOT, registries())).toBe(0);
        expect(asked).toEqual([]);
        const rows = JSON.parse(log.mock.calls[0]?.[0] as string) as { name: string; cannotCheck?: string }[];
        expect(rows.find((r) => r.name === "chromadb/chroma")?.cannotCheck).toBe("not checked (--offline)");
        expect(await main(["--help"], ROOT, registries())).toBe(0);
        expect(log.mock.calls[1]?.[0]).toMatch(/^Usage: npm run outdated/);
        expect(await main(["--bogus"], ROOT, registries())).toBe(2);
        expect(error.mock.calls[0]?.[0]).toMatch(/^outdated: unknown argument --bogus/);
    } finally {
        log.mockRestore();
        error.mockRestore();
    }
});

test("the checkout against the recorded answers: Open WebUI and Ollama have newer releases", async () => {
    const pins = collectPins(ROOT).filter((p) => p.upstream?.registry !== "npm");
    const rows = report(pins, await lookUp(pins, registries(), 2000));
    const webui = rows.find((r) => r.name === "ghcr.io/open-webui/open-webui");
    expect(webui?.newest).toBe("v0.12.4");
    expect(webui?.outdated).toBe(compareReleases(webui?.version ?? "", "0.12.4") < 0);
    expect(rows.find((r) => r.name === "ollama/ollama")?.newest).toBe("0.17.4");
});
