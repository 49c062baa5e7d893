// The backup rule and model, without Pulumi: which guests are stateful, the opt-out's pairing with
// a reason, and what the model resolves (names per environment, the vector stores, the dumps).

import { pbsNames, resolveBackup, vectorStoresOf } from "../../config/resolve/backup";
import { parseStackConfig } from "../../config/load";
import { statefulGuests } from "../../config/rules/backup";
import { POLICIES } from "../../stacks";
import { parsedConfig, rawConfig } from "../helpers/config";

type Values = Record<string, Record<string, Record<string, unknown>>>;

function issuesOf(stack: "private" | "public", edit: (v: Values) => void) {
    const result = parseStackConfig(
        rawConfig(stack, (v) => edit(v as Values)),
        POLICIES,
    );
    return result.ok ? [] : result.issues;
}

test("stateful: VMs whose services write volumes, and the PostgreSQL and Redis containers", () => {
    expect(statefulGuests(parsedConfig("private")).map((g) => g.name)).toEqual([
        "private-ai",
        "private-postgres",
        "private-redis",
    ]);
    expect(statefulGuests(parsedConfig("public")).map((g) => `${g.kind}.${g.name}`)).toEqual([
        "vms.public-ai",
        "containers.public-postgres",
        "containers.public-redis",
    ]);
});

test("a guest both listed and opted out, and a reason without the opt-out, are errors", () => {
    expect(
        issuesOf("public", (v) => {
            (v["backup"] as unknown as { guests: string[] }).guests.push("public-redis");
        }),
    ).toEqual([
        {
            path: "containers.public-redis.backup",
            message: "is false, but backup.guests lists this guest; remove one of the two",
        },
    ]);
    expect(
        issuesOf("public", (v) => {
            const pg = v["containers"]?.["public-postgres"] as Record<string, unknown>;
            pg["backupReason"] = "because";
        }),
    ).toEqual([
        {
            path: "containers.public-postgres.backupReason",
            message: "a reason without backup: false; set backup: false or remove the reason",
        },
    ]);
});

test("without any backup config, every stateful guest is reported", () => {
    const issues = issuesOf("public", (v) => {
        delete v["backup"];
        const redis = v["containers"]?.["public-redis"] as Record<string, unknown>;
        delete redis["backup"];
        delete redis["backupReason"];
    });
    expect(issues.map((i) => i.path)).toEqual([
        "vms.public-ai.backup",
        "containers.public-postgres.backup",
        "containers.public-redis.backup",
    ]);
});

test("the model: per-environment names, the covered guests, the dumps and the vector stores", () => {
    const pub = resolveBackup(parsedConfig("public"), "public");
    expect(pub?.pbs).toMatchObject({ ...pbsNames("public"), server: "10.10.10.25" });
    expect(pub?.guests).toEqual([
        { name: "public-ai", vmid: 210, kind: "vm" },
        { name: "public-postgres", vmid: 220, kind: "ct" },
    ]);
    expect(pub?.postgres).toEqual([{ name: "public-postgres", address: "10.20.20.20" }]);
    expect(pub?.vectorVms).toEqual([
        {
            name: "public-ai",
            user: "ubuntu",
            address: "10.20.20.10",
            stores: [{ service: "chromadb", kind: "chroma", volume: "public-ai-chroma-data" }],
            // Where its node-exporter reads textfiles: the throughput probe's folder.
            textfileDirectory: "/var/lib/ai-dualstack/textfile",
        },
    ]);
    expect(pub?.server).toBeUndefined();
    const priv = resolveBackup(parsedConfig("private"), "private");
    expect(priv?.server?.datastores.map((d) => d.environment)).toEqual(["private", "public"]);
    expect(priv?.server?.address).toBe("10.10.10.25");
    expect(vectorStoresOf("private-ai", parsedConfig("private").vms["private-ai"] as never)).toEqual([
        { service: "qdrant", kind: "qdrant", apiKeySecret: "qdrantApiKey" },
    ]);
    // Nothing is shared between the two environments' names.
    const a = Object.values(pbsNames("private"));
    expect(Object.values(pbsNames("public")).filter((n) => a.includes(n))).toEqual([]);
});
