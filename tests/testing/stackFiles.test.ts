// The stack-file reader: secrets set per leaf, as `pulumi config set --secret --path` writes them.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { planStack } from "../../testing/planStack";
import { PROJECT_DIR, readStackConfig } from "../../testing/stackFiles";

/** A copy of the project's stack files whose private stack holds serviceSecrets encrypted leaf by leaf. */
function projectWithLeafSecrets(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-leaf-secrets-"));
    for (const f of ["Pulumi.yaml", "Pulumi.public.yaml"])
        fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    const stack = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.private.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    const names = [
        "anythingllmAuthToken",
        "anythingllmJwtSecret",
        "jupyterToken",
        "postgresPassword",
        "qdrantApiKey",
        "redisPassword",
        "webuiAdminPassword",
    ];
    stack.config["ai-dualstack:serviceSecrets"] = Object.fromEntries(
        [...names, "webuiSecretKey"].map((n) => [n, { secure: `v1:AAAA${n}==` }]),
    );
    fs.writeFileSync(path.join(dir, "Pulumi.private.yaml"), stringify(stack));
    return dir;
}

test("per-leaf secrets become per-leaf placeholders, and the key counts as a secret", () => {
    const files = readStackConfig("private", { projectDir: projectWithLeafSecrets() });
    expect(files.secretKeys).toContain("ai-dualstack:serviceSecrets");
    const values = JSON.parse(files.config["ai-dualstack:serviceSecrets"] ?? "{}") as Record<string, string>;
    expect(values["qdrantApiKey"]).toBe("offline-placeholder-qdrantApiKey");
    expect(JSON.stringify(values)).not.toContain("v1:");
    expect(files.notes).toContain(
        "ai-dualstack:serviceSecrets has encrypted values in Pulumi.private.yaml; the plan uses placeholders",
    );
});

test("the offline plan accepts them", async () => {
    const planned = await planStack("private", { projectDir: projectWithLeafSecrets() });
    expect(planned.resources.length).toBeGreaterThan(40);
});
