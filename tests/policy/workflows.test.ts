import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { policies } from "../../policy/policies";
import { jobCredentials } from "../../policy/workflowRules";
import { workflowCredentialsInEnvironment, workflowFindings, WORKFLOWS_DIR } from "../../policy/workflows";
import { PROJECT_DIR } from "../../testing/stackFiles";

/** A folder holding the given workflow files. */
function workflows(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-workflows-"));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
}

const PREVIEW = `
on: pull_request
jobs:
  checks:
    runs-on: ubuntu-latest
    steps:
      - run: npm ci --ignore-scripts
  preview:
    runs-on: [self-hosted]
    environment: preview-\${{ matrix.stack }}
    steps:
      - run: pulumi preview
        env:
          PULUMI_CONFIG_PASSPHRASE: \${{ secrets.PULUMI_CONFIG_PASSPHRASE }}
      - uses: actions/github-script@v7
        with:
          github-token: \${{ secrets.GITHUB_TOKEN }}
`;

describe("workflow-credentials-in-environment", () => {
    const dirs: string[] = [];
    const dir = (files: Record<string, string>) => {
        const d = workflows(files);
        dirs.push(d);
        return d;
    };
    afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    test("jobs with secrets in an environment, and jobs with none, pass; GITHUB_TOKEN is not a credential of ours", () => {
        expect(workflowFindings(dir({ "pull-request.yml": PREVIEW }))).toEqual({ violations: [], unchecked: [] });
    });

    test("a job with a secret in its job-level env and no environment", () => {
        const text = PREVIEW.replace("    environment: preview-${{ matrix.stack }}\n", "").replace(
            "    runs-on: [self-hosted]\n",
            "    runs-on: [self-hosted]\n    env:\n      AWS_ACCESS_KEY_ID: ${{ secrets['STATE_ACCESS_KEY_ID'] }}\n",
        );
        expect(workflowFindings(dir({ "pull-request.yml": text })).violations).toEqual([
            "pull-request.yml: job preview uses secrets PULUMI_CONFIG_PASSPHRASE, STATE_ACCESS_KEY_ID outside an environment",
        ]);
    });

    test("an environment given as an object counts; an empty name does not", () => {
        const named = PREVIEW.replace(
            "environment: preview-${{ matrix.stack }}",
            "environment:\n      name: deploy-private\n      url: https://example.org",
        );
        expect(workflowFindings(dir({ "deploy.yml": named })).violations).toEqual([]);
        const empty = PREVIEW.replace("environment: preview-${{ matrix.stack }}", 'environment: ""');
        expect(workflowFindings(dir({ "deploy.yml": empty })).violations).toEqual([
            "deploy.yml: job preview uses secrets PULUMI_CONFIG_PASSPHRASE outside an environment",
        ]);
    });

    test("a reusable workflow's call that inherits or names secrets holds them", () => {
        expect(jobCredentials({ uses: "./.github/workflows/x.yml", secrets: "inherit" })).toEqual(["(inherit)"]);
        expect(
            jobCredentials({ uses: "./.github/workflows/x.yml", secrets: { token: "${{ secrets.DEPLOY }}" } }),
        ).toEqual(["DEPLOY", "token"]);
        const text = "on: push\njobs:\n  call:\n    uses: ./.github/workflows/x.yml\n    secrets: inherit\n";
        expect(workflowFindings(dir({ "call.yaml": text })).violations).toEqual([
            "call.yaml: job call uses secrets (inherit) outside an environment",
        ]);
    });

    test("what it cannot read is reported as unchecked, never passed", () => {
        expect(
            workflowFindings(dir({ "broken.yml": "jobs: [\n", "empty.yml": "on: push\n", "notes.txt": "x" })),
        ).toEqual({
            violations: [],
            unchecked: [expect.stringMatching(/^broken\.yml: not YAML \(/) as string, "empty.yml: no jobs"],
        });
        const missing = path.join(os.tmpdir(), "aids-no-such-workflows");
        expect(workflowFindings(missing)).toEqual({
            violations: [],
            unchecked: [`${missing}: no workflows folder beside the stack`],
        });
    });

    test("the pack reads the workflows beside the stack, and carries the rule", () => {
        expect(WORKFLOWS_DIR).toBe(path.join(PROJECT_DIR, ".github", "workflows"));
        expect(policies).toContain(workflowCredentialsInEnvironment);
        expect(workflowCredentialsInEnvironment.enforcementLevel).toBe("mandatory");
    });
});
