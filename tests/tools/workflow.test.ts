// The pull-request workflow (.github/workflows/pull-request.yml): checked by actionlint, the real GitHub Actions
// linter (built by .ci/actionlint.sh; it also runs shellcheck on each `run:` script), and read for what it must do.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT_DIR } from "../../testing/stackFiles";

const WORKFLOW = path.join(PROJECT_DIR, ".github", "workflows", "pull-request.yml");

/** actionlint on PATH; under CI a missing one fails, elsewhere the lint tests are skipped, loudly. */
function actionlint(): string | undefined {
    const found = spawnSync("actionlint", ["-version"]).status === 0;
    if (found) return "actionlint";
    if (process.env["CI"]) throw new Error("actionlint is not on PATH; .ci/run builds it (.ci/actionlint.sh)");
    process.stderr.write("\n*** actionlint SKIPPED: not on PATH (bash .ci/actionlint.sh builds it) ***\n\n");
    return undefined;
}

const lint = actionlint();

/** actionlint on `workflow`, with the project's actionlint.yaml (the runner's own label). */
function runLint(workflow: string): { status: number | null; out: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-actionlint-"));
    try {
        const file = path.join(dir, "pull-request.yml");
        fs.writeFileSync(file, workflow);
        const config = path.join(PROJECT_DIR, ".github", "actionlint.yaml");
        const r = spawnSync(lint!, ["-color=false", "-config-file", config, file], { encoding: "utf8" });
        return { status: r.status, out: r.stdout + r.stderr };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const text = fs.readFileSync(WORKFLOW, "utf8");

(lint ? describe : describe.skip)("actionlint", () => {
    test("passes the workflow", () => {
        expect(runLint(text)).toEqual({ status: 0, out: "" });
    });

    test("refuses a runner label the cicd runner does not carry, and a script shellcheck flags", () => {
        const broken = text
            .replace(
                "runs-on: [self-hosted, linux, x64, ai-dualstack]",
                "runs-on: [self-hosted, linux, x64, ai-dualstak]",
            )
            .replace(
                'npm run -s replace-guard -- "preview-$STACK.json"',
                "npm run -s replace-guard -- preview-$STACK.json",
            );
        const { status, out } = runLint(broken);
        expect(status).toBe(1);
        expect(out).toContain('label "ai-dualstak" is unknown');
        expect(out).toMatch(/shellcheck reported issue in this script: SC2086/);
    });
});

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
}
interface Job {
    needs?: string;
    if?: string;
    "runs-on": string | string[];
    strategy?: { matrix?: { stack?: string[] } };
    steps: Step[];
}

describe("what the workflow does", () => {
    const doc = parse(text) as { on: Record<string, unknown>; jobs: Record<string, Job> };
    const { checks, preview } = doc.jobs as { checks: Job; preview: Job };

    test("runs on every pull request: the checks CI runs, then a preview of each stack", () => {
        expect(Object.keys(doc.on)).toEqual(["pull_request"]);
        expect(checks.steps.map((s) => s.run).filter(Boolean)).toContain("bash .ci/run");
        expect(preview.needs).toBe("checks");
        expect(preview.strategy?.matrix?.stack).toEqual(["private", "public"]);
    });

    test("previews inside the LAN, never a fork's code, with the policy pack and a PR comment, then the replace guard", () => {
        expect(preview["runs-on"]).toEqual(["self-hosted", "linux", "x64", "ai-dualstack"]);
        expect(preview.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
        const i = preview.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.["command"]);
        expect(preview.steps[i]?.with).toMatchObject({
            command: "preview",
            "stack-name": "${{ matrix.stack }}",
            policyPacks: "policy",
            "comment-on-pr": true,
        });
        const guard = preview.steps.findIndex((s) => s.run?.includes("npm run -s replace-guard"));
        expect(guard).toBeGreaterThan(i);
        expect(preview.steps[guard]?.run).toContain('pulumi preview --stack "$STACK" --json');
    });

    test("the stack credentials reach pulumi on its stdin, never in an argument that `ps` shows", () => {
        const step = preview.steps.find((s) => s.name === "Stack credentials");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-wf-"));
        try {
            // A stand-in pulumi: its arguments to one file, what it reads on stdin to another.
            fs.mkdirSync(path.join(dir, "bin"));
            fs.writeFileSync(
                path.join(dir, "bin", "pulumi"),
                `#!/usr/bin/env bash\necho "pulumi $*" >>"${dir}/argv"\n[[ "$1 $2" != "config set" ]] || { cat; echo; } >>"${dir}/stdin"\n`,
                { mode: 0o755 },
            );
            const secrets = { PROXMOX_API_TOKEN: "ci@pve!preview=tok-S3cr3t", PROXMOX_SSH_PRIVATE_KEY: "KEY-S3cr3t" };
            const r = spawnSync("bash", ["-e", "-c", step?.run ?? "exit 9"], {
                encoding: "utf8",
                env: {
                    ...process.env,
                    ...secrets,
                    PATH: `${dir}/bin:${process.env["PATH"] ?? ""}`,
                    STACK: "private",
                    PULUMI_BACKEND_URL: "s3://state",
                },
            });
            expect(r.status).toBe(0);
            const argv = fs.readFileSync(path.join(dir, "argv"), "utf8");
            expect(argv).toContain("pulumi config set --secret ai-dualstack:proxmoxApiToken\n");
            for (const s of Object.values(secrets)) expect(argv).not.toContain(s);
            expect(fs.readFileSync(path.join(dir, "stdin"), "utf8")).toBe(
                `${secrets.PROXMOX_API_TOKEN}\n${secrets.PROXMOX_SSH_PRIVATE_KEY}\n\n`,
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
