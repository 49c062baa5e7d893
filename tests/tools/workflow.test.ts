// The workflows (.github/workflows: pull-request, deploy, drift): each checked by actionlint, the real GitHub
// Actions linter (built by .ci/actionlint.sh; it also runs shellcheck on each `run:` script), read for what it
// must do, and held to the repository's rules (policy/workflowRules.ts), each of which a broken copy must fail.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { READ_ONLY_SECRETS, secretNames, workflowViolations } from "../../policy/workflowRules";
import { PROJECT_DIR } from "../../testing/stackFiles";

const WORKFLOWS = path.join(PROJECT_DIR, ".github", "workflows");
const WORKFLOW = path.join(WORKFLOWS, "pull-request.yml");
const read = (name: string) => fs.readFileSync(path.join(WORKFLOWS, name), "utf8");

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
function runLint(workflow: string, name = "pull-request.yml"): { status: number | null; out: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-actionlint-"));
    try {
        const file = path.join(dir, name);
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
    test("finds the three workflows", () => {
        expect(fs.readdirSync(WORKFLOWS).sort()).toEqual(["deploy.yml", "drift.yml", "pull-request.yml"]);
    });

    test.each(["pull-request.yml", "deploy.yml", "drift.yml"])("passes %s", (name) => {
        expect(runLint(read(name), name)).toEqual({ status: 0, out: "" });
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
    env?: Record<string, string>;
    with?: Record<string, unknown>;
    if?: string;
}
interface Job {
    needs?: string;
    if?: string;
    "runs-on": string | string[];
    environment?: string;
    concurrency?: { group?: string; "cancel-in-progress"?: boolean };
    strategy?: { matrix?: { stack?: string[] } };
    steps: Step[];
}
type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job> };

/** Runs a step's script with a stand-in pulumi that records its arguments and what it reads on stdin. */
function runCredentialStep(step: Step | undefined, secrets: Record<string, string>): { argv: string; stdin: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-wf-"));
    try {
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(
            path.join(dir, "bin", "pulumi"),
            `#!/usr/bin/env bash\necho "pulumi $*" >>"${dir}/argv"\n[[ "$1 $2" != "config set" ]] || { cat; echo; } >>"${dir}/stdin"\n`,
            { mode: 0o755 },
        );
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
        return {
            argv: fs.readFileSync(path.join(dir, "argv"), "utf8"),
            stdin: fs.readFileSync(path.join(dir, "stdin"), "utf8"),
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("what the pull-request workflow does", () => {
    const doc = parse(text) as Workflow;
    const { checks, preview } = doc.jobs as { checks: Job; preview: Job };

    test("runs on every pull request: the checks CI runs, then a preview of each stack", () => {
        expect(Object.keys(doc.on)).toEqual(["pull_request"]);
        expect(checks.steps.map((s) => s.run).filter(Boolean)).toContain("bash .ci/run");
        expect(preview.needs).toBe("checks");
        expect(preview.strategy?.matrix?.stack).toEqual(["private", "public"]);
    });

    test("the hosted checks hold no secret at all", () => {
        expect(secretNames(checks)).toEqual([]);
    });

    test("previews inside the LAN in preview-<stack>, never a fork's code, with the policy pack and a PR comment, then the replace guard", () => {
        expect(preview["runs-on"]).toEqual(["self-hosted", "linux", "x64", "ai-dualstack"]);
        expect(preview.environment).toBe("preview-${{ matrix.stack }}");
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

    test("the preview's Proxmox credentials are the read-only ones, on pulumi's stdin, never in an argument that `ps` shows", () => {
        const step = preview.steps.find((s) => s.name === "Stack credentials");
        expect(secretNames(step).filter((n) => /PROXMOX|SSH/.test(n))).toEqual([
            "PREVIEW_PROXMOX_API_TOKEN",
            "PREVIEW_SSH_PRIVATE_KEY",
        ]);
        const secrets = {
            PREVIEW_PROXMOX_API_TOKEN: "ci@pve!preview=tok-S3cr3t",
            PREVIEW_SSH_PRIVATE_KEY: "KEY-S3cr3t",
        };
        const { argv, stdin } = runCredentialStep(step, secrets);
        expect(argv).toContain("pulumi config set --secret ai-dualstack:proxmoxApiToken\n");
        expect(argv).toContain("pulumi config set --secret ai-dualstack:sshPrivateKey\n");
        for (const s of Object.values(secrets)) expect(argv).not.toContain(s);
        expect(stdin).toBe(`${secrets.PREVIEW_PROXMOX_API_TOKEN}\n${secrets.PREVIEW_SSH_PRIVATE_KEY}\n\n`);
    });
});

describe("what the deploy workflow does", () => {
    const doc = parse(read("deploy.yml")) as Workflow;
    const deploy = doc.jobs["deploy"] as Job;
    const runs = deploy.steps.map((s) => s.run ?? "");
    const at = (re: RegExp) => runs.findIndex((r) => re.test(r));

    test("on push to main, one job per stack in deploy-<stack>, never two `up`s of a stack at once", () => {
        expect(doc.on).toEqual({ push: { branches: ["main"] } });
        expect(Object.keys(doc.jobs)).toEqual(["deploy"]);
        expect(deploy.strategy?.matrix?.stack).toEqual(["private", "public"]);
        expect(deploy.environment).toBe("deploy-${{ matrix.stack }}");
        expect(deploy.concurrency).toEqual({ group: "deploy-${{ matrix.stack }}", "cancel-in-progress": false });
    });

    test("the policy pack, then the replace guard on that preview, then `pulumi up`, then the gate's figures in the summary", () => {
        const policy = at(/pulumi preview --stack "\$STACK" --policy-pack policy --json/);
        const guard = at(/npm run -s replace-guard -- "preview-\$STACK\.json"/);
        const up = at(/pulumi up --stack "\$STACK" --policy-pack policy --yes/);
        const summary = at(/ci-report -- gate "\$STACK" "outputs-\$STACK\.json" >> "\$GITHUB_STEP_SUMMARY"/);
        expect(runs[policy]).toContain('> "preview-$STACK.json"');
        expect([policy, guard, up, summary].every((i) => i >= 0)).toBe(true);
        expect(policy).toBeLessThan(guard);
        expect(guard).toBeLessThan(up);
        expect(up).toBeLessThan(summary);
        expect(deploy.steps[summary]?.if).toBe("${{ !cancelled() }}");
    });

    test("the deploy credentials reach pulumi on its stdin", () => {
        const secrets = { PROXMOX_API_TOKEN: "aids-private@pve!pulumi=S3cr3t", PROXMOX_SSH_PRIVATE_KEY: "ROOT-KEY" };
        const { argv, stdin } = runCredentialStep(
            deploy.steps.find((s) => s.name === "Stack credentials"),
            secrets,
        );
        for (const s of Object.values(secrets)) expect(argv).not.toContain(s);
        expect(stdin).toBe(`${secrets.PROXMOX_API_TOKEN}\n${secrets.PROXMOX_SSH_PRIVATE_KEY}\n\n`);
    });
});

describe("what the drift workflow does", () => {
    const doc = parse(read("drift.yml")) as Workflow;
    const drift = doc.jobs["drift"] as Job;

    test("nightly (and by hand), per stack in drift-<stack>: a refreshing preview expecting no changes, reported by name and metric", () => {
        expect(Object.keys(doc.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
        expect(doc.on["schedule"]).toEqual([{ cron: "17 3 * * *" }]);
        expect(drift.environment).toBe("drift-${{ matrix.stack }}");
        expect(drift.strategy?.matrix?.stack).toEqual(["private", "public"]);
        const run = drift.steps.map((s) => s.run ?? "").join("\n");
        expect(run).toContain('pulumi preview --stack "$STACK" --refresh --expect-no-changes --json');
        expect(run).toContain(
            'npm run -s ci-report -- drift "$STACK" "drift-$STACK.json" --metrics-dir /var/lib/ai-dualstack/drift --summary "$GITHUB_STEP_SUMMARY"',
        );
    });

    test("with the read-only credentials only", () => {
        const names = secretNames(drift);
        expect(names.length).toBeGreaterThan(0);
        expect(names.filter((n) => !READ_ONLY_SECRETS.includes(n))).toEqual([]);
        expect(names).toEqual(expect.arrayContaining(["PREVIEW_PROXMOX_API_TOKEN", "PREVIEW_SSH_PRIVATE_KEY"]));
    });
});

describe("the workflow rules (policy/workflowRules.ts)", () => {
    const files = ["pull-request.yml", "deploy.yml", "drift.yml"] as const;

    test.each(files)("%s keeps every rule", (name) => {
        expect(workflowViolations(name, read(name))).toEqual([]);
    });

    /** Breaks `file` by replacing `from` (which must occur) with `to`, and returns the violations. */
    function broken(file: string, from: string | RegExp, to: string): string[] {
        const original = read(file);
        const mutated = original.replace(from, to);
        expect(mutated).not.toBe(original);
        return workflowViolations(file, mutated);
    }

    test("a secret in a job-level env", () => {
        const v = broken(
            "pull-request.yml",
            "    strategy:\n      fail-fast: false",
            "    env:\n      PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n    strategy:\n      fail-fast: false",
        );
        expect(v).toEqual([
            "pull-request.yml: job preview: job-level env holds secrets.PULUMI_CONFIG_PASSPHRASE: give each secret to the one step that needs it",
        ]);
    });

    test("a secret in the workflow-level env", () => {
        const v = broken(
            "drift.yml",
            "permissions:\n  contents: read\n",
            "permissions:\n  contents: read\n\nenv:\n  X: ${{ secrets.PULUMI_BACKEND_URL }}\n",
        );
        expect(v).toEqual([
            "drift.yml: workflow-level env holds secrets.PULUMI_BACKEND_URL: give each secret to the one step that needs it",
        ]);
    });

    test("npm ci with install scripts in a job that holds secrets", () => {
        const v = broken("deploy.yml", "npm ci --ignore-scripts --no-audit --no-fund", "npm ci --no-audit --no-fund");
        expect(v).toContain(
            "deploy.yml: job deploy: step 3 (npm ci --no-audit --no-fund) runs npm's install scripts in a job that holds secrets: use npm ci --ignore-scripts",
        );
        expect(v).toContain(
            "deploy.yml: job deploy: step 5 (Stack credentials) uses secrets.PULUMI_BACKEND_URL, secrets.PULUMI_CONFIG_PASSPHRASE, secrets.STATE_ACCESS_KEY_ID, secrets.STATE_SECRET_ACCESS_KEY, secrets.PROXMOX_API_TOKEN, secrets.PROXMOX_SSH_PRIVATE_KEY before npm ci --ignore-scripts",
        );
    });

    test("a secret-using step before npm ci --ignore-scripts", () => {
        const v = broken(
            "drift.yml",
            "      - uses: actions/setup-node@820762786026740c76f36085b0efc47a31fe5020 # v7.0.0\n        with:",
            "      - uses: actions/setup-node@820762786026740c76f36085b0efc47a31fe5020 # v7.0.0\n        env:\n          T: ${{ secrets.PREVIEW_PROXMOX_API_TOKEN }}\n        with:",
        );
        expect(v).toEqual([
            "drift.yml: job drift: step 2 (actions/setup-node@820762786026740c76f36085b0efc47a31fe5020) uses secrets.PREVIEW_PROXMOX_API_TOKEN before npm ci --ignore-scripts",
        ]);
    });

    test("an action pinned by tag, or by sha without its tag", () => {
        expect(broken("pull-request.yml", /actions\/cache@[0-9a-f]{40} # v5\.0\.5/, "actions/cache@v5")).toEqual([
            "pull-request.yml:36: actions/cache@v5 is not pinned by commit: use <owner>/<repo>@<40-hex sha> # <tag>",
        ]);
        expect(
            broken(
                "deploy.yml",
                "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0",
                "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d",
            ),
        ).toEqual([
            'deploy.yml:37: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d carries no tag comment: add "# v<version>" after the sha',
        ]);
    });

    test("a credential-holding job outside an environment", () => {
        expect(broken("deploy.yml", "    environment: deploy-${{ matrix.stack }}\n", "")).toEqual([
            "deploy.yml: job deploy: holds secrets.PROXMOX_API_TOKEN, secrets.PROXMOX_SSH_PRIVATE_KEY, secrets.PULUMI_BACKEND_URL, secrets.PULUMI_CONFIG_PASSPHRASE, secrets.STATE_ACCESS_KEY_ID, secrets.STATE_SECRET_ACCESS_KEY but runs in no environment: set environment: (with required reviewers)",
        ]);
    });

    test("a deploy job without a per-stack concurrency group, or one that cancels a running up", () => {
        expect(broken("deploy.yml", "group: deploy-${{ matrix.stack }}", "group: deploy")).toEqual([
            "deploy.yml: job deploy: runs pulumi up without a concurrency group per stack (concurrency.group with ${{ matrix.stack }})",
        ]);
        expect(broken("deploy.yml", "cancel-in-progress: false", "cancel-in-progress: true")).toEqual([
            "deploy.yml: job deploy: cancel-in-progress would stop a running pulumi up halfway",
        ]);
    });

    test("a drift or preview job naming a deploy credential", () => {
        expect(broken("drift.yml", "secrets.PREVIEW_PROXMOX_API_TOKEN", "secrets.PROXMOX_API_TOKEN")).toEqual([
            `drift.yml: job drift: previews with secrets.PROXMOX_API_TOKEN: a preview or drift job names only the read-only credentials (${READ_ONLY_SECRETS.join(", ")})`,
        ]);
        expect(
            broken("pull-request.yml", "secrets.PREVIEW_SSH_PRIVATE_KEY", "secrets['PROXMOX_SSH_PRIVATE_KEY']"),
        ).toEqual([
            `pull-request.yml: job preview: previews with secrets.PROXMOX_SSH_PRIVATE_KEY: a preview or drift job names only the read-only credentials (${READ_ONLY_SECRETS.join(", ")})`,
        ]);
    });
});
