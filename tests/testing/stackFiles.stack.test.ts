// The stack-file reader: secrets set per leaf, as `pulumi config set --secret --path` writes them.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { secretNames } from "../../config/secretUses";
import { planStack } from "../../testing/planStack";
import {
    OFFLINE_WG_KEY,
    PROJECT_DIR,
    StackFileError,
    readStackConfig,
    serviceSecretPlaceholders,
} from "../../testing/stackFiles";
import { parsedConfig } from "../helpers/config";

/** A copy of the project's stack files whose private stack holds serviceSecrets encrypted leaf by leaf. */
function projectWithLeafSecrets(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-leaf-secrets-"));
    for (const f of ["Pulumi.yaml", "Pulumi.public.yaml"])
        fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    const stack = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.private.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    // Every name the stack uses, encrypted, and one it does not use: a leaf is a leaf either way.
    const names = [...secretNames(parsedConfig("private")), "notUsedAnywhere"];
    stack.config["ai-dualstack:serviceSecrets"] = Object.fromEntries(
        names.map((n) => [n, { secure: `v1:AAAA${n}==` }]),
    );
    fs.writeFileSync(path.join(dir, "Pulumi.private.yaml"), stringify(stack));
    return dir;
}

test("per-leaf secrets become per-leaf placeholders, and the key counts as a secret", () => {
    const files = readStackConfig("private", { projectDir: projectWithLeafSecrets() });
    expect(files.secretKeys).toContain("ai-dualstack:serviceSecrets");
    const values = JSON.parse(files.config["ai-dualstack:serviceSecrets"] ?? "{}") as Record<string, string>;
    expect(values["qdrantApiKey"]).toBe("offline-placeholder-qdrantApiKey");
    expect(values["notUsedAnywhere"]).toBe("offline-placeholder-notUsedAnywhere");
    expect(JSON.stringify(values)).not.toContain("v1:");
    expect(files.notes).toContain(
        "ai-dualstack:serviceSecrets has encrypted values in Pulumi.private.yaml; the plan uses placeholders",
    );
});

describe("the stand-ins for serviceSecrets come from the walk of the stack's own config", () => {
    test("one per name the stack uses, shaped where a name needs it", () => {
        for (const stack of ["private", "public"] as const) {
            const placeholders = serviceSecretPlaceholders(stack);
            expect(Object.keys(placeholders)).toEqual(secretNames(parsedConfig(stack)));
        }
        expect(serviceSecretPlaceholders("private")["wireguardPrivateKey"]).toBe(OFFLINE_WG_KEY);
        // The public stack runs no monitoring server: Grafana's password is not its own.
        expect(serviceSecretPlaceholders("public")["grafanaAdminPassword"]).toBeUndefined();
        expect(serviceSecretPlaceholders("public")["chromaToken"]).toBe("offline-placeholder-chromaToken");
    });

    test("a secret an override names gets its stand-in, so the plan of an edited config still runs", () => {
        const monitoring = parsedConfig("private").monitoring;
        const renamed = { ...monitoring, grafanaAdminPasswordSecret: "grafanaRenamed" };
        const edited = serviceSecretPlaceholders("private", { overrides: { monitoring: renamed } });
        expect(edited["grafanaRenamed"]).toBe("offline-placeholder-grafanaRenamed");
        expect(edited["grafanaAdminPassword"]).toBeUndefined();
    });
});

test("the offline plan accepts them", async () => {
    const planned = await planStack("private", { projectDir: projectWithLeafSecrets() });
    expect(planned.resources.length).toBeGreaterThan(40);
});

describe("a file the plan cannot use is named with its line and column, never a stack trace", () => {
    /** A copy of the project, with one file rewritten. */
    function project(file: string, edit: (text: string) => string): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-bad-files-"));
        for (const f of ["Pulumi.yaml", "Pulumi.private.yaml", "Pulumi.public.yaml"])
            fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
        fs.writeFileSync(path.join(dir, file), edit(fs.readFileSync(path.join(dir, file), "utf8")));
        return dir;
    }
    const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split("\n").length;
    const failure = (stack: string, projectDir: string) => {
        try {
            readStackConfig(stack, { projectDir });
        } catch (err) {
            return err;
        }
        throw new Error("expected readStackConfig to fail");
    };

    test("a key set twice in a stack file", () => {
        const dir = project("Pulumi.public.yaml", (t) =>
            t.replace(
                "  ai-dualstack:environment: public\n",
                "  ai-dualstack:environment: public\n  ai-dualstack:environment: private\n",
            ),
        );
        const text = fs.readFileSync(path.join(dir, "Pulumi.public.yaml"), "utf8");
        const err = failure("public", dir);
        expect(err).toBeInstanceOf(StackFileError);
        expect((err as Error).message).toBe(
            `Pulumi.public.yaml:${lineOf(text, "ai-dualstack:environment: private")}:3: this key is set twice in one mapping (YAML would keep only one); remove one of them`,
        );
    });

    test("a YAML syntax error in Pulumi.yaml", () => {
        const dir = project("Pulumi.yaml", (t) =>
            t.replace("managementSources: [10.8.0.0/24]", "managementSources: [10.8.0.0/24"),
        );
        const err = failure("private", dir) as StackFileError;
        expect(err).toBeInstanceOf(StackFileError);
        expect(err.message).toMatch(/^Pulumi\.yaml:\d+:\d+: .+ \(YAML [A-Z_]+\)$/);
    });

    test("a declared secret stored in plain text gets the command that encrypts it, reading stdin", () => {
        const dir = project(
            "Pulumi.private.yaml",
            (t) => `${t}  ai-dualstack:proxmoxApiToken: plan@pve!x=00000000-0000-0000-0000-000000000000\n`,
        );
        const text = fs.readFileSync(path.join(dir, "Pulumi.private.yaml"), "utf8");
        expect((failure("private", dir) as Error).message).toBe(
            `Pulumi.private.yaml:${lineOf(text, "  ai-dualstack:proxmoxApiToken:")}:3: ai-dualstack:proxmoxApiToken is stored in plain text, but the project declares it secret; encrypt it in place: \`pulumi config get ai-dualstack:proxmoxApiToken | pulumi config set --secret ai-dualstack:proxmoxApiToken\``,
        );
    });

    test("an unknown stack and an unreadable file", () => {
        expect((failure("staging", PROJECT_DIR) as Error).message).toMatch(
            /^Pulumi\.staging\.yaml:1:1: no such stack file in .*; the stacks are "private" and "public"/,
        );
        const dir = project("Pulumi.public.yaml", (t) => t);
        fs.rmSync(path.join(dir, "Pulumi.public.yaml"));
        fs.mkdirSync(path.join(dir, "Pulumi.public.yaml"));
        expect((failure("public", dir) as Error).message).toBe(
            "Pulumi.public.yaml:1:1: cannot read it (EISDIR); check that it is a file you may read",
        );
    });
});
