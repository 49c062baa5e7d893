// The input checks that read more than the schema: a stack file's top-level keys, secrets in
// Pulumi.yaml, untagged models and secret-looking names in any case. Plain functions on temporary
// files and strings; the whole messages, through the program, are in tests/fixtures/invalid.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkProjectFileSecrets, checkStackFileKeys } from "../../config/files";
import { untaggedModel } from "../../config/rules/gate";
import { envWords } from "../../config/rules/workload";

function project(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inputs-"));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
}

describe("a stack file's top-level keys", () => {
    test("Pulumi's own keys pass, and a stack without a file here has nothing to check", () => {
        const dir = project({
            "Pulumi.lab.yaml": "secretsprovider: passphrase\nencryptionsalt: v1:abc\nenvironment: [lab]\nconfig: {}\n",
        });
        expect(checkStackFileKeys("lab", dir)).toEqual([]);
        expect(checkStackFileKeys("other", dir)).toEqual([]);
    });

    test("each unknown key is named; one far from any gets the keys a stack file holds", () => {
        const dir = project({ "Pulumi.lab.yaml": "config: {}\nvms: {}\n" });
        expect(checkStackFileKeys("lab", dir)).toEqual([
            {
                path: "Pulumi.lab.yaml",
                message:
                    'unknown top-level key "vms"; Pulumi ignores it and every setting under it without a word; move what it holds under config:, or remove it (a stack file holds config, secretsprovider, encryptedkey, encryptionsalt, environment)',
            },
        ]);
    });
});

describe("secrets in Pulumi.yaml", () => {
    test("a declaration without a value, or with an empty default, is fine", () => {
        const dir = project({
            "Pulumi.yaml":
                'config:\n  proxmoxApiToken: { type: string, secret: true }\n  sshPrivateKey: { default: "" }\n',
        });
        expect(checkProjectFileSecrets(dir)).toEqual([]);
    });

    test("a value, a default or a plain value in place of the declaration is named with where it is", () => {
        const dir = project({
            "Pulumi.yaml": [
                "config:",
                "  sshPrivateKey: { default: key }",
                "  ai-dualstack:serviceSecrets: { redisPassword: hunter2 }",
                "  environment: private",
            ].join("\n"),
        });
        const issues = checkProjectFileSecrets(dir);
        expect(issues.map((i) => i.path)).toEqual(["sshPrivateKey", "serviceSecrets"]);
        expect(issues[0]?.message).toContain("(config.sshPrivateKey.default)");
        expect(issues[1]?.message).toContain("in Pulumi.yaml (config.ai-dualstack:serviceSecrets), which");
        // The fix stores it per stack through the CLI's prompt, never as an argument.
        expect(issues[1]?.message).toContain("`pulumi config set --secret --path 'ai-dualstack:serviceSecrets.<name>'");
        for (const i of issues) expect(i.message).not.toMatch(/hunter2|: key\b/);
    });
});

test("an untagged model gets its tag suggested: the size after the last '-', else name:<tag>", () => {
    expect(untaggedModel("qwen2.5:14b")).toBeUndefined();
    expect(untaggedModel("hf.co/org/model:Q4_K_M")).toBeUndefined();
    expect(untaggedModel("llama3.2-1b")).toMatch(/pin a tag: "llama3\.2:1b"$/);
    expect(untaggedModel("mixtral-8x7b")).toMatch(/pin a tag: "mixtral:8x7b"$/);
    expect(untaggedModel("myorg/assistant")).toMatch(
        /reads it as myorg\/assistant:latest, .*pin a tag: "myorg\/assistant:<tag>"/,
    );
});

test("secret-looking names are read the same whatever their case", () => {
    expect(["apiKey", "client_secret", "API_KEY", "dbPassword"].map(envWords)).toEqual([
        "API_KEY",
        "CLIENT_SECRET",
        "API_KEY",
        "DB_PASSWORD",
    ]);
});
