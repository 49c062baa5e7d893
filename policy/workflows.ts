// The CI/CD workflows beside the stack (.github/workflows): every job that holds a credential runs in a GitHub
// environment, whose required reviewers approve before it starts (docs/cicd-runner.md). Read from the files, not
// from resources: the pack judges the repository it runs from, as the engine loads it from policy/.

import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { jobCredentials, jobEnvironment } from "./workflowRules";
import { coveredStackPolicy } from "./util";

/** The workflows beside the pack: <project>/.github/workflows. */
export const WORKFLOWS_DIR = path.join(__dirname, "..", ".github", "workflows");

export interface WorkflowFindings {
    /** "<file>: job <id> uses secrets A, B outside an environment". */
    violations: string[];
    /** What could not be read, and why. */
    unchecked: string[];
}

/** The credential-holding jobs outside an environment, in every workflow file of `dir`. */
export function workflowFindings(dir: string): WorkflowFindings {
    const out: WorkflowFindings = { violations: [], unchecked: [] };
    if (!fs.existsSync(dir)) {
        out.unchecked.push(`${dir}: no workflows folder beside the stack`);
        return out;
    }
    const files = fs
        .readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort();
    for (const file of files) {
        let doc: unknown;
        try {
            doc = parse(fs.readFileSync(path.join(dir, file), "utf8"));
        } catch (err) {
            out.unchecked.push(
                `${file}: not YAML (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`,
            );
            continue;
        }
        const jobs = doc !== null && typeof doc === "object" ? (doc as Record<string, unknown>)["jobs"] : undefined;
        if (jobs === null || typeof jobs !== "object") {
            out.unchecked.push(`${file}: no jobs`);
            continue;
        }
        for (const [id, job] of Object.entries(jobs as Record<string, unknown>)) {
            if (job === null || typeof job !== "object") {
                out.unchecked.push(`${file}: job ${id} is not a mapping`);
                continue;
            }
            // The same reading of a job as the workflow checks (workflowRules.ts) that the tests hold every file to.
            const secrets = jobCredentials(job);
            if (secrets.length > 0 && !jobEnvironment(job)) {
                out.violations.push(`${file}: job ${id} uses secrets ${secrets.join(", ")} outside an environment`);
            }
        }
    }
    return out;
}

export const workflowCredentialsInEnvironment = coveredStackPolicy(
    "workflow-credentials-in-environment",
    "Every workflow job beside the stack that uses a secret runs in a GitHub environment, so a reviewer approves before it holds the credential.",
    "Give the job `environment: <name>` with required reviewers, and keep its secrets in that environment (docs/cicd-runner.md).",
    (_resources, reportViolation, couldNotCheck) => {
        const { violations, unchecked } = workflowFindings(WORKFLOWS_DIR);
        for (const v of violations) reportViolation(v);
        for (const u of unchecked) couldNotCheck(u);
    },
);

export const workflowPolicies = [workflowCredentialsInEnvironment];
