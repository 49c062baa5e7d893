// parseStackConfig: the real stack files parse, defaults land, and the secrets are checked
// without ever being echoed.

import { formatIssues, parseStackConfig, RawConfig, suggestField } from "../../config/load";
import { secretNameFor } from "../../config/rules/workload";
import { POLICIES } from "../../stacks";
import { readStackConfig } from "../../testing/stackFiles";
import { rawConfig } from "../helpers/config";

const raw = rawConfig;
const parse = (config: RawConfig) => parseStackConfig(config, POLICIES);

test.each(["private", "public"])("the %s stack file parses", (stack) => {
    const result = parse(raw(stack));
    if (!result.ok) throw new Error(formatIssues(stack, result.issues));
    expect(result.config.environment).toBe(stack);
});

test("defaults are filled in where the file is silent", () => {
    const result = parse(raw("private"));
    if (!result.ok) throw new Error("expected the private config to parse");
    const cfg = result.config;
    const vm = cfg.vms["private-ai"];
    expect(vm?.protect).toBe(true);
    expect(vm?.cloudInit.user).toBe("ubuntu");
    expect(vm?.cloudInit.nvidiaDriverBranch).toBe("570");
    expect(vm?.image.url).toMatch(/^https:\/\/cloud-images\.ubuntu\.com\/noble\//);
    expect(cfg.nodes["pve1"]?.sshPort).toBe(22);
    expect(cfg.containers["private-redis"]?.firewall.inbound).toEqual([]);
});

test("an empty environment means the stack name; another name needs it set", () => {
    const named = parse(raw("public", (v) => (v["environment"] = "")));
    expect(named.ok && named.config.environment).toBe("public");
    const other = parse({ ...raw("public", (v) => (v["environment"] = "public")), stack: "dmz" });
    expect(other.ok && other.config.environment).toBe("public");
});

describe("secrets", () => {
    test("a missing token says how to set it", () => {
        const result = parse(raw("private", (v) => delete v["proxmoxApiToken"]));
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.issues).toEqual([
            {
                path: "proxmoxApiToken",
                message: expect.stringContaining("pulumi config set --secret ai-dualstack:proxmoxApiToken") as string,
            },
        ]);
    });

    test("a token stored in plain text is refused", () => {
        const files = readStackConfig("private");
        const plain = files.secretKeys.filter((k) => !k.endsWith("proxmoxApiToken"));
        const result = parse(raw("private", () => {}, plain));
        expect(result.ok).toBe(false);
        if (result.ok) return;
        // The fix re-stores the same value encrypted, through stdin: it never lands in argv or history.
        expect(result.issues).toEqual([
            {
                path: "proxmoxApiToken",
                message:
                    "is stored in plain text; encrypt it in place: `pulumi config get ai-dualstack:proxmoxApiToken | pulumi config set --secret ai-dualstack:proxmoxApiToken`",
            },
        ]);
    });

    test("service secrets stored in plain text get one command per name, none showing a value", () => {
        const files = readStackConfig("public");
        const plain = files.secretKeys.filter((k) => !k.endsWith("serviceSecrets"));
        const result = parse(raw("public", () => {}, plain));
        expect(result.ok).toBe(false);
        if (result.ok) return;
        const message = result.issues.find((i) => i.path === "serviceSecrets")?.message ?? "";
        expect(message).toMatch(/^is stored in plain text; encrypt each in place: /);
        expect(message).toContain(
            "`pulumi config get --path 'ai-dualstack:serviceSecrets.chromaToken' | pulumi config set --secret --path 'ai-dualstack:serviceSecrets.chromaToken'`",
        );
        expect(message).not.toContain("offline-placeholder");
    });

    test("a malformed private key is named but never shown", () => {
        const secret = "not-a-key-but-a-password-hunter2";
        const result = parse(raw("private", (v) => (v["sshPrivateKey"] = secret)));
        expect(result.ok).toBe(false);
        if (result.ok) return;
        const text = formatIssues("private", result.issues);
        expect(text).toContain(
            "ai-dualstack:sshPrivateKey: is not an unencrypted OpenSSH private key (the value is not shown)",
        );
        expect(text).not.toContain(secret);
    });
});

test("every finding is reported at once, not only the first", () => {
    const result = parse(
        raw("private", (v) => {
            const vms = v["vms"] as Record<string, Record<string, unknown>>;
            (vms["private-ai"] as Record<string, unknown>)["vmid"] = 250;
            (vms["private-ai"] as Record<string, unknown>)["gpu"] = "rtx3060";
        }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path).sort()).toEqual(["vms.private-ai.gpu", "vms.private-ai.vmid"]);
});

test("suggestField finds the near miss among the fields valid at the path, and nothing for noise", () => {
    expect(suggestField("cpuSet", ["vms", "private-ai"])).toBe("cpuset");
    expect(suggestField("vm")).toBe("vms");
    expect(suggestField("zzzzzzzzzz", ["vms", "private-ai"])).toBeUndefined();
    // `images` is near a service's field, not near a field of a service's limits: no hint there.
    expect(suggestField("images", ["vms", "private-ai", "services", "chat"])).toBe("image");
    expect(suggestField("images", ["vms", "private-ai", "services", "chat", "limits"])).toBeUndefined();
    // Through a list: a model of a VM.
    expect(suggestField("nam", ["vms", "private-ai", "models", 0])).toBe("name");
});

test("a plain variable named like a secret is refused; one that names a kind, a place or a switch is not", () => {
    const withEnv = (environment: Record<string, string>) =>
        parse(
            raw("public", (v) => {
                const vms = v["vms"] as Record<string, { services: Record<string, { environment: object }> }>;
                const chat = vms["public-ai"]?.services["chat"];
                if (chat) chat.environment = { ...chat.environment, ...environment };
            }),
        );
    const paths = (r: ReturnType<typeof parse>) => (r.ok ? [] : r.issues.map((i) => i.path));
    // The committed public stack already holds CHROMA_AUTH_TOKEN_TRANSPORT_HEADER: a header's name.
    expect(
        withEnv({ OAUTH_TOKEN_URL: "https://id.example/token", ENABLE_API_KEY: "True", API_KEY_FILE: "/run/key" }).ok,
    ).toBe(true);
    expect(
        paths(withEnv({ SMTP_PASSWORD: "hunter2", GITHUB_TOKEN: "ghp_x", SECRET_SALT: "x", API_KEY: "maybe" })),
    ).toEqual(
        ["SMTP_PASSWORD", "GITHUB_TOKEN", "SECRET_SALT", "API_KEY"].map(
            (k) => `vms.public-ai.services.chat.environment.${k}`,
        ),
    );
    expect(secretNameFor("QDRANT__SERVICE__API_KEY")).toBe("qdrantServiceApiKey");
    // Whatever the case: camel case and lower case are read as the same words, exceptions included.
    expect(paths(withEnv({ apiKey: "x", client_secret: "y", dbPassword: "z", apiKeyFile: "/run/key" }))).toEqual(
        ["apiKey", "client_secret", "dbPassword"].map((k) => `vms.public-ai.services.chat.environment.${k}`),
    );
});
