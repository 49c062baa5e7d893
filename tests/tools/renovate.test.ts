// renovate.json's regex managers, run the way Renovate runs them (each matchString as a global regex
// over each file its managerFilePatterns match) against this checkout: together they must find every
// image `npm run outdated` finds, with the same tag, and the monitoring versions the schema pins.

import * as fs from "fs";
import * as path from "path";
import { MonitoringVersionsSchema } from "../../config/schema/monitoring";
import { collectPins } from "../../tools/outdatedPins";

const ROOT = path.resolve(__dirname, "../..");

interface CustomManager {
    customType: string;
    description: string;
    managerFilePatterns: string[];
    matchStrings: string[];
    depNameTemplate?: string;
    datasourceTemplate: string;
}
const config = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8")) as {
    customManagers: CustomManager[];
};

/** A managerFilePatterns entry: "/regex/" is a regex over the repository-relative path. */
function fileRegex(pattern: string): RegExp {
    const m = /^\/(.*)\/$/.exec(pattern);
    if (!m) throw new Error(`renovate.json: managerFilePatterns ${pattern} is not a /regex/`);
    return new RegExp(m[1] as string);
}

/** Every file of the checkout's top level, docs/ and config/schema/: where the managers look. */
const candidates = ["", "docs", "config/schema"].flatMap((dir) =>
    fs
        .readdirSync(path.join(ROOT, dir))
        .map((f) => path.posix.join(dir, f))
        .filter((f) => fs.statSync(path.join(ROOT, f)).isFile()),
);

/** What one manager extracts: "file: depName:currentValue (datasource)". */
function extract(m: CustomManager): string[] {
    const files = candidates.filter((f) => m.managerFilePatterns.some((p) => fileRegex(p).test(f)));
    expect(files.length).toBeGreaterThan(0);
    return files.flatMap((f) => {
        const text = fs.readFileSync(path.join(ROOT, f), "utf8");
        return m.matchStrings.flatMap((s) =>
            [...text.matchAll(new RegExp(s, "g"))].map((x) => {
                const dep = x.groups?.depName ?? m.depNameTemplate;
                return `${f}: ${dep}:${x.groups?.currentValue} (${m.datasourceTemplate})`;
            }),
        );
    });
}

/** The tag the stacks pin for an image repository. */
function tagOf(repo: string): string {
    return collectPins(ROOT).find((p) => p.name === repo)?.version ?? "(none)";
}

test("every manager says what it is for", () => {
    for (const m of config.customManagers) expect(m.description.length).toBeGreaterThan(40);
});

test("the image managers find every image pin of the stacks, with its tag, and nothing else there", () => {
    const found = config.customManagers.flatMap(extract).filter((x) => /^Pulumi\./.test(x));
    const pins = collectPins(ROOT)
        .filter((p) => p.kind === "image")
        .map((p) => `${p.where.split(":")[0]}: ${p.name}:${p.version} (docker)`);
    expect(pins.length).toBeGreaterThan(10);
    expect(found.sort()).toEqual(pins.sort());
});

test("docs/services.md's images are found too, each the tag a stack pins", () => {
    const pinned = new Set(
        collectPins(ROOT)
            .filter((p) => p.kind === "image")
            .map((p) => `${p.name}:${p.version}`),
    );
    const docs = config.customManagers
        .flatMap(extract)
        .filter((x) => x.startsWith("docs/services.md: "))
        .map((x) => x.replace(/^docs\/services\.md: | \(docker\)$/g, ""));
    expect(docs).toEqual(
        expect.arrayContaining(["ghcr.io/open-webui/open-webui:" + tagOf("ghcr.io/open-webui/open-webui")]),
    );
    for (const image of docs) expect(pinned).toContain(image);
});

test("Grafana and the PVE exporter are found at their schema defaults, both places each", () => {
    const v = MonitoringVersionsSchema.parse(undefined);
    const found = config.customManagers.flatMap(extract).filter((x) => x.startsWith("config/schema/"));
    expect(found.sort()).toEqual(
        [
            `config/schema/monitoring.ts: grafana/grafana:${v.grafana} (github-releases)`,
            `config/schema/monitoring.ts: grafana/grafana:${v.grafana} (github-releases)`,
            `config/schema/monitoring.ts: prometheus-pve-exporter:${v.pveExporter} (pypi)`,
            `config/schema/monitoring.ts: prometheus-pve-exporter:${v.pveExporter} (pypi)`,
        ].sort(),
    );
});
