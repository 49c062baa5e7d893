// The CI/CD container's set-up: a GitHub Actions runner (pinned release, sha256-checked) with Docker
// inside (nesting), registered to the repository with a token from serviceSecrets and the labels the
// pull-request workflow's preview job asks for. Its firewall (config/resolve/roleFirewall.ts) lets it reach
// the Proxmox API and the internet's web servers, and nothing else of the environment.

import * as pulumi from "@pulumi/pulumi";
import { withFormerTypes } from "../formerTypes";
import { LxcModel } from "../../config/resolve";
import { loadScript, renderScript } from "../../lib/scripts";
import { rootSsh, ScriptSetup } from "../remoteScript";

/** The runner release installed first; GitHub's runners update themselves from there. */
export const RUNNER_VERSION = "2.320.0";
/** sha256 of actions-runner-linux-x64-2.320.0.tar.gz, as the release page lists it. */
export const RUNNER_SHA256 = "93ac1b7ce743ee85b5d386f5c1787385ef07b3d7c728ff66ce0d3813d5f46900";
/** Labels every self-hosted runner carries; the config's labels come on top. */
export const DEFAULT_RUNNER_LABELS: readonly string[] = ["self-hosted", "linux", "x64"];

const RUNNER = loadScript(__dirname, "runner-setup.sh");

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
            AIDS_RUNNER_URL: `https://github.com/${runner.repository}`,
            AIDS_RUNNER_NAME: runnerName,
            AIDS_RUNNER_LABELS: runner.labels.join(","),
            AIDS_RUNNER_TOKEN: token,
        },
        RUNNER,
    );
}

export function describeRunner(runner: Runner, outbound: LxcModel["outbound"]): string {
    const out = outbound?.rules.map((r) => `${r.dport ?? "any"}/${r.proto ?? "any"} to ${r.dest ?? "any"}`) ?? [];
    return `GitHub Actions runner ${RUNNER_VERSION} (sha256-checked) for ${runner.repository}, labels ${runnerLabels(runner).join(",")}, with Docker (nesting); outbound ${outbound?.outputPolicy ?? "ACCEPT"} except ${out.join(", ")}`;
}

export interface RunnerSetupArgs {
    readonly lxc: Pick<LxcModel, "name" | "runner" | "outbound">;
    readonly address: string;
    readonly sshPrivateKey: pulumi.Input<string>;
    /** The repository's runner registration token (runner.tokenSecret), held secret. */
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
                planLine: `installs Docker and the GitHub Actions runner ${RUNNER_VERSION}, registers it with ${runner.repository} (script held secret: it carries the registration token)`,
                connection: rootSsh(args.address, args.sshPrivateKey),
                stdin: args.registrationToken.apply((t) => renderRunnerScript(runner, args.lxc.name, t)),
                dependsOn: args.dependsOn,
            },
            withFormerTypes("ai-dualstack:serviceLxc:RunnerSetup", opts),
        );
        this.registerOutputs({ description: this.description });
    }
}
