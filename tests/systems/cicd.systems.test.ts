// The CI/CD runner's container, booted: the set-ups `up` sends to 10.10.10.23 run twice on Debian 13 and 12.
// GitHub is out of reach here, so the runner's tarball cannot be downloaded: the set-up must stop at that
// step with one line naming the URL, after the steps before it (Debian's packages, the runner user) did their
// work, and a second run must change nothing else.

import { SUITE_LABEL, SUITES } from "../../testing/booted/system";
import { RUNNER_VERSION } from "../../components/serviceLxc/cicdRunner";
import { bootedContainerFor, containerSetups, describeBooted, runTwice, expectNestingFor } from "./helpers";

describeBooted.each(SUITES)("the CI/CD runner's container, booted on %s", (suite) => {
    const ct = bootedContainerFor(suite, "private-cicd");

    test(`${SUITE_LABEL[suite]}: the runner's download fails naming its URL, twice, and changes nothing the second time`, async () => {
        const setups = containerSetups(ct.plan, "private-cicd");
        expect(setups.map((s) => s.name)).toEqual(["private-cicd-runner-setup", "private-cicd-node-exporter-setup"]);
        const version = RUNNER_VERSION;
        const url = `https://github.com/actions/runner/releases/download/v${version}/actions-runner-linux-x64-${version}.tar.gz`;
        const { first, changes } = await runTwice(ct.system, setups, {
            expect: {
                "private-cicd-runner-setup": new RegExp(
                    `cannot download the Actions runner ${version} from ${url.replace(/\./g, "\\.")}`,
                ),
            },
        });
        expect(first.get("private-cicd-runner-setup")?.stderr).not.toMatch(/sha256sum|tar:/);
        expect(changes).toEqual([]);
    }, 600_000);

    test("the steps before the download did their work: the runner user exists, in no docker group (the jobs run as it)", async () => {
        expect((await ct.system.sh("id -nG runner")).trim().split(/\s+/)).toEqual(["runner"]);
        // Nothing half-installed is left: no release kept, no token written, no service.
        expect((await ct.system.sh("ls -A /opt/actions-runner/release")).trim()).toBe("");
        expect((await ct.system.ssh("test -e /etc/ai-dualstack/runner/github-token")).code).not.toBe(0);
        expect((await ct.system.ssh("test -e /etc/systemd/system/aids-runner.service")).code).not.toBe(0);
    }, 60_000);

    test("nesting: its services ask for mount namespaces, so the cicd role has nesting on", () =>
        expectNestingFor(ct.system, "cicd", []));
});
