// The real Pulumi CLI (built by .ci/pulumi-cli.sh) reads Pulumi.yaml and the stack files: it must
// accept the project's config declarations and merge exactly what tools/stackFiles.ts feeds the
// offline plan and the tests.

import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR, readStackConfig, serviceSecretPlaceholders } from "../../testing/stackFiles";

function pulumiBinary(): string | undefined {
    const bin = process.env["AIDS_PULUMI_BIN"];
    if (bin && fs.existsSync(bin)) return bin;
    const cached = path.join(os.homedir(), ".cache", "ai-dualstack", "pulumi-v3.248.0", "bin", "pulumi");
    if (fs.existsSync(cached)) return cached;
    console.warn("no Pulumi CLI: build it with `bash .ci/pulumi-cli.sh` (.ci/run does) to run the engine checks");
    return undefined;
}

const pulumi = pulumiBinary();
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZW5naW5lLXRlc3Q=\n-----END OPENSSH PRIVATE KEY-----\n";

function project(): { dir: string; run: (args: string[], input?: string) => string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-engine-"));
    for (const f of ["Pulumi.yaml", "Pulumi.private.yaml", "Pulumi.public.yaml"])
        fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
    fs.mkdirSync(path.join(dir, "state"));
    const env = {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "engine-test",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_HOME: path.join(dir, ".pulumi"),
    };
    const run = (args: string[], input?: string) =>
        execFileSync(pulumi as string, args, {
            cwd: dir,
            env,
            encoding: "utf8",
            ...(input === undefined ? {} : { input }),
            stdio: "pipe",
        });
    return { dir, run };
}

/** `pulumi preview` is expected to fail here; its combined output says where. */
function previewOutput(run: (args: string[]) => string): string {
    try {
        return run(["preview", "--non-interactive"]);
    } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        return `${e.stdout ?? ""}${e.stderr ?? ""}`;
    }
}

interface EngineValue {
    value?: string;
    objectValue?: unknown;
    secret: boolean;
}

/**
 * Each serviceSecrets value the stack names, as secrets at their paths, in one `config set-all` (one CLI start instead of
 * one per secret: 17 on private). The one-path-at-a-time `config set --secret --path` that `npm run secrets` and the stack
 * files' comments use runs against this CLI in tests/tools/secrets.live.test.ts.
 */
function setServiceSecrets(run: (args: string[], input?: string) => string, stack: string): void {
    const names = Object.keys(serviceSecretPlaceholders(stack));
    const pairs = names.flatMap((name) => ["--secret", `ai-dualstack:serviceSecrets.${name}=engine-test-${name}`]);
    run(["config", "set-all", "--path", ...pairs]);
}

(pulumi ? describe : describe.skip).each(["private", "public"])("the real engine on the %s stack", (stack) => {
    test("accepts the project, and merges the same config the offline plan uses", () => {
        const { run } = project();
        run(["stack", "init", stack]);
        run([
            "config",
            "set",
            "--secret",
            "ai-dualstack:proxmoxApiToken",
            "pulumi@pve!ai=11111111-2222-3333-4444-555555555555",
        ]);
        // From stdin: a key starts with "-----", which the CLI would take for a flag.
        run(["config", "set", "--secret", "ai-dualstack:sshPrivateKey"], KEY);
        setServiceSecrets(run, stack);
        const engine = JSON.parse(run(["config", "--json", "--show-secrets"])) as Record<string, EngineValue>;

        const ours = readStackConfig(stack);
        expect(Object.keys(engine).sort()).toEqual(Object.keys(ours.config).sort());
        for (const [key, value] of Object.entries(engine)) {
            if (value.secret) continue;
            const expected = ours.config[key] as string;
            if (value.objectValue !== undefined) expect(value.objectValue).toEqual(JSON.parse(expected));
            else expect(value.value).toBe(expected);
        }
        expect(
            Object.keys(engine)
                .filter((k) => engine[k]?.secret)
                .sort(),
        ).toEqual(ours.secretKeys);
        expect(engine["ai-dualstack:sshPrivateKey"]?.value?.trim()).toBe(KEY.trim());

        // `preview` validates the stack config against the project's declarations first, and only
        // then starts the program (which this bare copy of the project cannot run: tests/e2e does).
        const preview = previewOutput(run);
        expect(preview).not.toContain("validating stack config");
        expect(preview).toMatch(/language plugin|Pulumi SDK has not been installed/);
    });

    test("refuses a secret stored in plain text, as the offline reader does", () => {
        const { dir, run } = project();
        run(["stack", "init", stack]);
        run(["config", "set", "ai-dualstack:proxmoxApiToken", "plain-text"]);
        run(["config", "set", "--secret", "ai-dualstack:sshPrivateKey"], KEY);
        setServiceSecrets(run, stack);
        expect(previewOutput(run)).toContain(
            `validating stack config: Stack '${stack}' with configuration key 'proxmoxApiToken' must be encrypted as it's secret`,
        );
        // The offline reader refuses it too, naming the line and the command that encrypts it in place.
        expect(() => readStackConfig(stack, { projectDir: dir })).toThrow(
            new RegExp(
                `^Pulumi\\.${stack}\\.yaml:\\d+:3: ai-dualstack:proxmoxApiToken is stored in plain text, but the project declares it secret; encrypt it in place: `,
            ),
        );
    });
});
