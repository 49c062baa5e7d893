// The CI/CD container's set-up: a GitHub Actions runner (pinned release, sha256-checked) that registers just in
// time for one job at a time (runner-loop.sh), each job in a runner unpacked afresh with an empty work folder,
// with the labels the workflows' LAN jobs ask for. The repository's GitHub token, which mints each registration,
// is root's alone in the container; the jobs run as `runner`. Its firewall (config/resolve/roleFirewall.ts) lets
// it reach the Proxmox API and the internet's web servers, and nothing else of the environment.

import * as pulumi from "@pulumi/pulumi";
import { withFormerTypes } from "../formerTypes";
import { LxcModel } from "../../config/resolve";
import { loadScript, renderScript } from "../../lib/scripts";
import { rootSsh, ScriptSetup } from "../remoteScript";

/**
 * The runner release every job's runner is unpacked from: the newest (tag v2.336.0 of actions/runner); GitHub
 * refuses to register runners older than 2.329.0.
 */
export const RUNNER_VERSION = "2.336.0";
/**
 * sha256 of actions-runner-linux-x64-2.336.0.tar.gz: the asset digest GitHub's Releases API gives, as several
 * public projects pinning this release record it (not read from the release page itself here).
 */
export const RUNNER_SHA256 = "04cf0be1aff4c3ec3554466c39124ca250e3effd8873bb7e8d68535aa9505d5d";
/** The oldest runner GitHub still registers. */
export const MIN_RUNNER_VERSION = "2.329.0";
/** Labels every self-hosted runner carries; the config's labels come on top. */
export const DEFAULT_RUNNER_LABELS: readonly string[] = ["self-hosted", "linux", "x64"];

const RUNNER = loadScript(__dirname, "runner-setup.sh");
const LOOP = loadScript(__dirname, "runner-loop.sh");

type Runner = NonNullable<LxcModel["runner"]>;

/** Every label a job's `runs-on` can match: GitHub's own three, then the config's. */
export function runnerLabels(runner: Pick<Runner, "labels">): string[] {
    return [...DEFAULT_RUNNER_LABELS, ...runner.labels.filter((l) => !DEFAULT_RUNNER_LABELS.includes(l))];
}

export function renderRunnerScript(runner: Runner, runnerName: string, token: string): string {
    return renderScript(
        "Rendered by ai-dualstack (components/serviceLxc/cicdRunner.ts). Do not edit in the container.",
        {
            AIDS_RUNNER_VERSION: RUNNER_VERSION,
            AIDS_RUNNER_SHA256: RUNNER_SHA256,
            AIDS_RUNNER_REPO: runner.repository,
            AIDS_RUNNER_NAME: runnerName,
            AIDS_RUNNER_LABELS: runner.labels.join(","),
            AIDS_RUNNER_TOKEN: token,
            // Base64: the loop's own quotes stay out of the header's quoting.
            AIDS_RUNNER_LOOP_B64: Buffer.from(`#!/usr/bin/env bash\n${LOOP}`, "utf8").toString("base64"),
        },
        RUNNER,
    );
}

export function describeRunner(runner: Runner, outbound: LxcModel["outbound"]): string {
    const out = outbound?.rules.map((r) => `${r.dport ?? "any"}/${r.proto ?? "any"} to ${r.dest ?? "any"}`) ?? [];
    return `GitHub Actions runner ${RUNNER_VERSION} (sha256-checked) for ${runner.repository}, just in time for one job at a time, each with an empty work folder, labels ${runnerLabels(runner).join(",")}; outbound ${outbound?.outputPolicy ?? "ACCEPT"} except ${out.join(", ")}`;
}

export interface RunnerSetupArgs {
    readonly lxc: Pick<LxcModel, "name" | "runner" | "outbound">;
    readonly address: string;
    readonly sshPrivateKey: pulumi.Input<string>;
    /** The repository's GitHub token that mints just-in-time runner configurations (runner.tokenSecret), held secret. */
    readonly registrationToken: pulumi.Output<string>;
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class RunnerSetup extends ScriptSetup {
    constructor(name: string, args: RunnerSetupArgs, opts?: pulumi.ComponentResourceOptions) {
        const runner = args.lxc.runner;
        if (!runner) throw new Error(`${name}: a RunnerSetup needs runner settings`);
        super(
            "ai-dualstack:serviceLxc:RunnerSetup",
            name,
            {
                description: describeRunner(runner, args.lxc.outbound),
                planLine: `installs the GitHub Actions runner ${RUNNER_VERSION}, registered just in time for one job at a time with ${runner.repository} (script held secret: it carries the repository's GitHub token)`,
                connection: rootSsh(args.address, args.sshPrivateKey),
                stdin: args.registrationToken.apply((t) => renderRunnerScript(runner, args.lxc.name, t)),
                dependsOn: args.dependsOn,
            },
            withFormerTypes("ai-dualstack:serviceLxc:RunnerSetup", opts),
        );
        this.registerOutputs({ description: this.description });
    }
}
