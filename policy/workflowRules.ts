// The rules every GitHub Actions workflow of this repository keeps, checked from the workflow files alone: a
// job's secrets exist only in the steps that use them and only after `npm ci --ignore-scripts`; every action is
// pinned by commit; a job holding a credential runs in an environment (whose reviewers approve it first); a
// deploy job has a concurrency group per stack; a preview or drift job names only the read-only credentials.
// docs/cicd-runner.md explains why; tests/tools/workflow.test.ts breaks each rule once.

import { parse } from "yaml";

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    env?: Record<string, unknown>;
    with?: Record<string, unknown>;
}

interface Job {
    name?: string;
    environment?: string | { name?: string };
    env?: Record<string, unknown>;
    concurrency?: string | { group?: string; "cancel-in-progress"?: boolean | string };
    steps?: Step[];
}

interface Workflow {
    on?: unknown;
    env?: Record<string, unknown>;
    jobs?: Record<string, Job>;
}

/** The secrets a preview or drift job may name: state access and the read-only Proxmox credentials. */
export const READ_ONLY_SECRETS: readonly string[] = [
    "GITHUB_TOKEN",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "STATE_ACCESS_KEY_ID",
    "STATE_SECRET_ACCESS_KEY",
    "PREVIEW_PROXMOX_API_TOKEN",
    "PREVIEW_SSH_PRIVATE_KEY",
];

/** `GITHUB_TOKEN` is the job's own, scoped by `permissions:`; every other secret is a credential. */
const JOB_TOKEN = "GITHUB_TOKEN";

/** The secret names an expression-bearing value mentions (`secrets.X` or `secrets['X']`). */
export function secretNames(value: unknown): string[] {
    const text = JSON.stringify(value ?? null);
    const names = [...text.matchAll(/secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*\\?['"]([^'"\\]+)\\?['"]\s*\])/g)];
    return [...new Set(names.map((m) => (m[1] ?? m[2]) as string))];
}

/**
 * The credentials a job holds: the secrets it names (not the job's own GITHUB_TOKEN), and what it hands a reusable
 * workflow (`secrets: inherit`, as "(inherit)", or each key of a `secrets:` mapping).
 */
export function jobCredentials(job: unknown): string[] {
    const names = new Set(secretNames(job).filter((n) => n !== JOB_TOKEN));
    const passed = job !== null && typeof job === "object" ? (job as Record<string, unknown>)["secrets"] : undefined;
    if (passed === "inherit") names.add("(inherit)");
    else if (passed !== null && typeof passed === "object") for (const k of Object.keys(passed)) names.add(k);
    return [...names].sort();
}

/** The environment a job runs in (`environment: name` or `environment: { name }`), or undefined. */
export function jobEnvironment(job: unknown): string | undefined {
    const env = job !== null && typeof job === "object" ? (job as Record<string, unknown>)["environment"] : undefined;
    const name = env !== null && typeof env === "object" ? (env as Record<string, unknown>)["name"] : env;
    return typeof name === "string" && name.trim() !== "" ? name : undefined;
}

const stepLabel = (s: Step, i: number) => `step ${i + 1} (${s.name ?? s.uses ?? s.run?.split("\n")[0] ?? "?"})`;

/** `npm ci` that runs no package's lifecycle scripts. */
const SAFE_INSTALL = /\bnpm\s+ci\b[^\n]*--ignore-scripts/;
const ANY_INSTALL = /\bnpm\s+(ci|install|i)\b/;

/** Whether a job runs `pulumi up` (a run line or the Pulumi action's `command: up`). */
function deploys(job: Job): boolean {
    return (job.steps ?? []).some(
        (s) =>
            /\bpulumi\s+up\b/.test(s.run ?? "") ||
            (s.uses?.startsWith("pulumi/actions@") && s.with?.["command"] === "up"),
    );
}

/** Whether a job previews with read-only power: on a pull request, or a drift check. */
function previewsOnly(workflow: Workflow, job: Job): boolean {
    const on = workflow.on;
    const triggers = typeof on === "string" ? [on] : Array.isArray(on) ? on : Object.keys(on ?? {});
    const drift = (job.steps ?? []).some(
        (s) => /--expect-no-changes/.test(s.run ?? "") || s.with?.["expect-no-changes"] === true,
    );
    return drift || triggers.some((t) => t === "pull_request" || t === "pull_request_target");
}

/** Every `uses:` line pinned by a 40-hex commit with its tag in a comment; local and docker actions aside. */
function pinViolations(file: string, text: string): string[] {
    const out: string[] = [];
    text.split("\n").forEach((line, i) => {
        const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!m) return;
        const ref = m[1] as string;
        if (ref.startsWith("./") || ref.startsWith("docker://")) return;
        const at = ref.split("@")[1] ?? "";
        if (!/^[0-9a-f]{40}$/.test(at)) {
            out.push(`${file}:${i + 1}: ${ref} is not pinned by commit: use <owner>/<repo>@<40-hex sha> # <tag>`);
        } else if (!/^\s*#\s*v\d+(\.\d+)*\b/.test(m[2] ?? "")) {
            out.push(`${file}:${i + 1}: ${ref} carries no tag comment: add "# v<version>" after the sha`);
        }
    });
    return out;
}

/** Every rule broken by one workflow file, each naming the file, job and step; empty when it keeps them all. */
export function workflowViolations(file: string, text: string): string[] {
    const wf = (parse(text) ?? {}) as Workflow;
    const out = pinViolations(file, text);
    for (const name of secretNames(wf.env)) {
        out.push(`${file}: workflow-level env holds secrets.${name}: give each secret to the one step that needs it`);
    }
    for (const [id, job] of Object.entries(wf.jobs ?? {})) {
        const where = `${file}: job ${id}`;
        for (const name of secretNames(job.env)) {
            out.push(`${where}: job-level env holds secrets.${name}: give each secret to the one step that needs it`);
        }
        const steps = job.steps ?? [];
        const credentials = new Set<string>(secretNames(job));
        let installed = false;
        steps.forEach((s, i) => {
            const used = secretNames(s);
            if (ANY_INSTALL.test(s.run ?? "") && !SAFE_INSTALL.test(s.run ?? "") && credentials.size > 0) {
                out.push(
                    `${where}: ${stepLabel(s, i)} runs npm's install scripts in a job that holds secrets: use npm ci --ignore-scripts`,
                );
            }
            if (used.length > 0 && !installed) {
                out.push(
                    `${where}: ${stepLabel(s, i)} uses secrets.${used.join(", secrets.")} before npm ci --ignore-scripts`,
                );
            }
            if (SAFE_INSTALL.test(s.run ?? "")) installed = true;
        });
        const creds = jobCredentials(job);
        if (creds.length > 0 && !jobEnvironment(job)) {
            out.push(
                `${where}: holds secrets.${creds.join(", secrets.")} but runs in no environment: set environment: (with required reviewers)`,
            );
        }
        if (deploys(job)) {
            const group = typeof job.concurrency === "string" ? job.concurrency : job.concurrency?.group;
            if (!group || !/\$\{\{\s*matrix\.stack\s*\}\}/.test(group)) {
                out.push(
                    `${where}: runs pulumi up without a concurrency group per stack (concurrency.group with \${{ matrix.stack }})`,
                );
            } else if (typeof job.concurrency === "object" && job.concurrency["cancel-in-progress"] === true) {
                out.push(`${where}: cancel-in-progress would stop a running pulumi up halfway`);
            }
        }
        if (previewsOnly(wf, job)) {
            const foreign = [...credentials].filter((n) => !READ_ONLY_SECRETS.includes(n));
            if (foreign.length > 0) {
                out.push(
                    `${where}: previews with secrets.${foreign.join(", secrets.")}: a preview or drift job names only the read-only credentials (${READ_ONLY_SECRETS.join(", ")})`,
                );
            }
        }
    }
    return out;
}
