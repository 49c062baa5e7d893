// The CI/CD runner's set-up: the labels it registers with match what every workflow's LAN jobs ask for;
// the rendered script carries the pinned release (at least the oldest GitHub registers), its sha256, the
// repository, the token (quoted) and the just-in-time loop, passes shellcheck; in mock mode it runs over SSH
// once the container started.

import * as command from "@pulumi/command";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
    MIN_RUNNER_VERSION,
    RUNNER_SHA256,
    RUNNER_VERSION,
    renderRunnerScript,
    runnerLabels,
} from "../../../components/serviceLxc/cicdRunner";
import { LxcConfig } from "../../../config/schema";
import { loadScript } from "../../../lib/scripts";
import { PlannedStack } from "../../../testing/planStack";
import { parsedConfig } from "../../helpers/config";
import { one, runStack } from "../../helpers/pulumi";
import { shellcheckScripts, validator } from "../../helpers/sandbox";

const runner = (parsedConfig("private").containers["private-cicd"] as LxcConfig).runner as NonNullable<
    LxcConfig["runner"]
>;
const WORKFLOWS = path.join(__dirname, "..", "..", "..", ".github", "workflows");

test("the runner carries the labels the preview job's runs-on names", () => {
    expect(runnerLabels(runner)).toEqual(["self-hosted", "linux", "x64", "ai-dualstack"]);
});

// The workflow is in the tree: a missing one is a failure here, not a skip.
test.each(["pull-request.yml", "deploy.yml", "drift.yml"])("every self-hosted job of %s fits it", (file) => {
    const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
    const jobs = (parse(text) as { jobs: Record<string, { "runs-on": unknown }> }).jobs;
    const selfHosted = Object.values(jobs)
        .map((j) => j["runs-on"])
        .filter((r): r is string[] => Array.isArray(r) && r.includes("self-hosted"));
    expect(selfHosted.length).toBeGreaterThan(0);
    for (const wanted of selfHosted) expect(runnerLabels(runner)).toEqual(expect.arrayContaining(wanted));
});

const script = renderRunnerScript(runner, "private-cicd", "AB'CD");
const LOOP = loadScript(path.join(__dirname, "../../../components/serviceLxc"), "runner-loop.sh");

/** a >= b for dotted versions. */
const atLeast = (a: string, b: string) => {
    const [x, y] = [a, b].map((v) => v.split(".").map(Number));
    for (let i = 0; i < 3; i++) if ((x?.[i] ?? 0) !== (y?.[i] ?? 0)) return (x?.[i] ?? 0) > (y?.[i] ?? 0);
    return true;
};

test("the pinned release is one GitHub still registers", () => {
    expect(MIN_RUNNER_VERSION).toBe("2.329.0");
    expect(atLeast(RUNNER_VERSION, MIN_RUNNER_VERSION)).toBe(true);
    expect(atLeast("2.320.0", MIN_RUNNER_VERSION)).toBe(false);
});

test("the script installs the pinned release, checks its sha256 and carries the token and the just-in-time loop", () => {
    expect(RUNNER_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(script).toContain(`AIDS_RUNNER_VERSION='${RUNNER_VERSION}'`);
    expect(script).toContain(`AIDS_RUNNER_SHA256='${RUNNER_SHA256}'`);
    expect(script).toContain("AIDS_RUNNER_REPO='your-github-user/ai-dualstack'");
    const b64 = /AIDS_RUNNER_LOOP_B64='([A-Za-z0-9+/=]+)'/.exec(script)?.[1] ?? "";
    expect(Buffer.from(b64, "base64").toString("utf8")).toBe(`#!/usr/bin/env bash\n${LOOP}`);
    expect(script).toContain("AIDS_RUNNER_LABELS='ai-dualstack'");
    expect(script).toContain("AIDS_RUNNER_TOKEN='AB'\\''CD'");
    expect(script).toContain("sha256sum -c --quiet");
});

const shellcheck = validator("shellcheck");
(shellcheck ? test : test.skip)("shellcheck finds nothing in the rendered runner setup", () => {
    const loop = `#!/usr/bin/env bash\n${LOOP}`;
    expect(() =>
        shellcheckScripts(shellcheck as string, { "runner.sh": script, "runner-loop.sh": loop }),
    ).not.toThrow();
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
