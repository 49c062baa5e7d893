// The CI/CD runner's set-up: the labels it registers with match what the pull-request workflow's
// preview job asks for; the rendered script carries the pinned release, its sha256, the repository
// and the token (quoted), passes shellcheck; in mock mode it runs over SSH once the container started.

import * as command from "@pulumi/command";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
    RUNNER_SHA256,
    RUNNER_VERSION,
    renderRunnerScript,
    runnerLabels,
} from "../../../components/serviceLxc/cicdRunner";
import { LxcConfig } from "../../../config/schema";
import { PlannedStack } from "../../../testing/planStack";
import { parsedConfig } from "../../helpers/config";
import { one, runStack } from "../../helpers/pulumi";
import { shellcheckScripts, validator } from "../../helpers/sandbox";

const runner = (parsedConfig("private").containers["private-cicd"] as LxcConfig).runner as NonNullable<
    LxcConfig["runner"]
>;
const WORKFLOW = path.join(__dirname, "..", "..", "..", ".github", "workflows", "pull-request.yml");

test("the runner carries the labels the preview job's runs-on names", () => {
    expect(runnerLabels(runner)).toEqual(["self-hosted", "linux", "x64", "ai-dualstack"]);
});

// The workflow is in the tree: a missing one is a failure here, not a skip.
test("every self-hosted job of the pull-request workflow fits it", () => {
    const jobs = (parse(fs.readFileSync(WORKFLOW, "utf8")) as { jobs: Record<string, { "runs-on": unknown }> }).jobs;
    const selfHosted = Object.values(jobs)
        .map((j) => j["runs-on"])
        .filter((r): r is string[] => Array.isArray(r) && r.includes("self-hosted"));
    expect(selfHosted.length).toBeGreaterThan(0);
    for (const wanted of selfHosted) expect(runnerLabels(runner)).toEqual(expect.arrayContaining(wanted));
});

const script = renderRunnerScript(runner, "private-cicd", "AB'CD");

test("the script installs the pinned release, checks its sha256 and registers with the token", () => {
    expect(RUNNER_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(script).toContain(`AIDS_RUNNER_VERSION='${RUNNER_VERSION}'`);
    expect(script).toContain(`AIDS_RUNNER_SHA256='${RUNNER_SHA256}'`);
    expect(script).toContain("AIDS_RUNNER_URL='https://github.com/your-github-user/ai-dualstack'");
    expect(script).toContain("AIDS_RUNNER_LABELS='ai-dualstack'");
    expect(script).toContain("AIDS_RUNNER_TOKEN='AB'\\''CD'");
    expect(script).toContain("sha256sum -c --quiet");
});

const shellcheck = validator("shellcheck");
(shellcheck ? test : test.skip)("shellcheck finds nothing in the rendered runner setup", () => {
    expect(() => shellcheckScripts(shellcheck as string, { "runner.sh": script })).not.toThrow();
});

describe("in mock mode", () => {
    let priv: PlannedStack;
    beforeAll(async () => {
        priv = await runStack("private");
    }, 60_000);

    test("the runner setup runs over SSH in the cicd container once it started, its script secret", () => {
        const setup = one(priv.resources, command.remote.Command, "private-cicd-runner-setup");
        expect(setup.inputs["connection"]).toMatchObject({ host: "10.10.10.23", user: "root" });
        expect(setup.dependencies).toContain(one(priv.resources, command.remote.Command, "private-cicd-start").urn);
        expect(setup.secretInputs).toContain("stdin");
    });

    test("the security setups: CrowdSec, then the node, then WireGuard, each script secret", () => {
        const cs = one(priv.resources, command.remote.Command, "private-security-security-crowdsec");
        const node = one(priv.resources, command.remote.Command, "private-security-security-node");
        const wg = one(priv.resources, command.remote.Command, "private-security-security-wireguard");
        expect(cs.inputs["connection"]).toMatchObject({ host: "10.10.10.22" });
        expect(node.inputs["connection"]).toMatchObject({ host: "192.168.1.10" });
        expect(node.dependencies).toContain(cs.urn);
        expect(wg.dependencies).toContain(node.urn);
        for (const c of [cs, node, wg]) expect(c.secretInputs).toContain("stdin");
    });
});
