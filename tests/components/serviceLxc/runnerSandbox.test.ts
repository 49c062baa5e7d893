// The runner set-up script, run by real bash in a sandbox: stand-ins for apt, systemd, the user
// tools and curl record their calls, and curl hands over a fake runner release whose config.sh and
// svc.sh record theirs. The script checks the download's sha256 (real sha256sum, real tar), registers
// once with the token and labels, installs the service, does nothing the second time, and refuses a
// download whose checksum differs before unpacking anything.

import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RUNNER_SHA256, RUNNER_VERSION, renderRunnerScript } from "../../../components/serviceLxc/cicdRunner";

const STUBS: Record<string, string> = {
    "apt-get": 'echo "apt-get $*" >>"$CALLS"',
    "dpkg-query": 'echo "install ok installed"',
    systemctl: 'echo "systemctl $*" >>"$CALLS"; [[ "$1" != is-active ]] || [[ -f "$SANDBOX/active" ]]',
    id: 'if [[ "$1" == -nG ]]; then echo "runner docker"; else exit 0; fi',
    useradd: 'echo "useradd $*" >>"$CALLS"',
    usermod: 'echo "usermod $*" >>"$CALLS"',
    runuser: 'shift 3; "$@"',
    chown: "true",
    docker: "echo 27.0.0",
    curl: 'echo "curl $*" >>"$CALLS"; while [[ "$1" != -o ]]; do shift; done; cp "$TARBALL" "$2"',
};

/** The fake release: config.sh and svc.sh that record their arguments and leave what the real ones leave. */
const RELEASE: Record<string, string> = {
    // The token it was given in its environment goes to a file of its own: CALLS holds arguments only.
    "config.sh":
        'echo "config.sh $*" >>"$CALLS"; echo "${ACTIONS_RUNNER_INPUT_TOKEN:-}" >>"$SANDBOX/config.env"; [[ "$1" == remove ]] && rm -f .runner || touch .runner',
    "svc.sh":
        'echo "svc.sh $*" >>"$CALLS"; if [[ "$1" == install ]]; then echo actions.runner.x.service >.service; fi; [[ "$1" != start ]] || touch "$SANDBOX/active"',
};

function sandbox(
    suite = "bookworm",
    stubs: Record<string, string> = {},
): { root: string; env: NodeJS.ProcessEnv; sha: string } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "aids-runner-"));
    const bin = path.join(root, "bin");
    const rel = path.join(root, "release");
    fs.mkdirSync(bin);
    fs.mkdirSync(rel);
    for (const [name, body] of Object.entries({ ...STUBS, ...stubs })) {
        fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    }
    for (const [name, body] of Object.entries(RELEASE)) {
        fs.writeFileSync(path.join(rel, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    }
    fs.writeFileSync(path.join(root, "os-release"), `ID=debian\nVERSION_CODENAME=${suite}\n`);
    const tarball = path.join(root, "release.tar.gz");
    execFileSync("tar", ["-czf", tarball, "-C", rel, "."]);
    const sha = createHash("sha256").update(fs.readFileSync(tarball)).digest("hex");
    const env = {
        ...process.env,
        PATH: `${bin}:${process.env["PATH"] ?? ""}`,
        CALLS: path.join(root, "calls"),
        SANDBOX: root,
        TARBALL: tarball,
        AIDS_RUNNER_DIR: path.join(root, "opt", "actions-runner"),
        AIDS_OS_RELEASE: path.join(root, "os-release"),
    };
    return { root, env, sha };
}

const runner = { repository: "octo/ai-dualstack", tokenSecret: "t", labels: ["ai-dualstack"] };

function run(env: NodeJS.ProcessEnv, sha: string, labels = runner.labels) {
    const script = renderRunnerScript({ ...runner, labels }, "private-cicd", "REG-TOKEN").replace(
        `AIDS_RUNNER_SHA256='${RUNNER_SHA256}'`,
        `AIDS_RUNNER_SHA256='${sha}'`,
    );
    return spawnSync("bash", ["-s"], { input: script, env, encoding: "utf8" });
}

const calls = (env: NodeJS.ProcessEnv) =>
    fs.existsSync(env["CALLS"] as string)
        ? fs
              .readFileSync(env["CALLS"] as string, "utf8")
              .trim()
              .split("\n")
        : [];

test("installs the checked release, registers once with the token and labels, then changes nothing", () => {
    const { env, sha } = sandbox();
    const first = run(env, sha);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    const once = calls(env);
    expect(once.filter((c) => c.startsWith("curl"))).toHaveLength(1);
    expect(once).toContain(
        "config.sh --unattended --replace --url https://github.com/octo/ai-dualstack --name private-cicd --labels ai-dualstack --work _work",
    );
    // The token reached config.sh in ACTIONS_RUNNER_INPUT_TOKEN, which the runner reads and removes from
    // its environment (actions/runner src/Runner.Listener/CommandSettings.cs), never in an argument
    // that `ps` shows: no stand-in's recorded argv holds it.
    expect(fs.readFileSync(path.join(env["SANDBOX"] as string, "config.env"), "utf8")).toBe("REG-TOKEN\n");
    expect(once.filter((c) => c.includes("REG-TOKEN"))).toEqual([]);
    expect(once).toContain("svc.sh install runner");
    expect(once).toContain("svc.sh start");
    expect(first.stdout).toContain("ready: actions.runner.x.service active");

    fs.rmSync(env["CALLS"] as string);
    const second = run(env, sha);
    expect(second.status).toBe(0);
    const again = calls(env);
    expect(again.filter((c) => /^(curl|config\.sh|svc\.sh|useradd|usermod|apt-get)/.test(c))).toEqual([]);
});

test("refuses a download whose sha256 differs, before unpacking or registering", () => {
    const { env } = sandbox();
    const result = run(env, "0".repeat(64));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/FAILED|did NOT match/);
    expect(fs.existsSync(path.join(env["AIDS_RUNNER_DIR"] as string, "config.sh"))).toBe(false);
    expect(calls(env).filter((c) => c.startsWith("config.sh"))).toEqual([]);
});

test("an unreachable GitHub stops the set-up with one line naming the URL, nothing unpacked or registered", () => {
    const { env, sha } = sandbox("bookworm", {
        curl: 'echo "curl: (6) Could not resolve host: github.com" >&2; exit 6',
    });
    const result = run(env, sha);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
        `ai-dualstack runner: ERROR: cannot download the Actions runner ${RUNNER_VERSION} from https://github.com/actions/runner/releases/download/v${RUNNER_VERSION}/actions-runner-linux-x64-${RUNNER_VERSION}.tar.gz (curl: (6) Could not resolve host: github.com)`,
    );
    expect(result.stderr).not.toMatch(/sha256sum|FAILED/);
    expect(fs.existsSync(path.join(env["AIDS_RUNNER_DIR"] as string, ".aids-version"))).toBe(false);
    expect(calls(env).filter((c) => c.startsWith("config.sh"))).toEqual([]);
});

test("new labels: removed and registered again, the token in the environment of both calls only", () => {
    const { env, sha } = sandbox();
    expect(run(env, sha).status).toBe(0);
    fs.rmSync(env["CALLS"] as string);
    const again = run(env, sha, ["ai-dualstack", "gpu"]);
    expect(again.stderr).toBe("");
    expect(again.status).toBe(0);
    const registration = calls(env).filter((c) => c.startsWith("config.sh"));
    expect(registration).toEqual([
        "config.sh remove",
        "config.sh --unattended --replace --url https://github.com/octo/ai-dualstack --name private-cicd --labels ai-dualstack,gpu --work _work",
    ]);
    expect(calls(env).filter((c) => c.includes("REG-TOKEN"))).toEqual([]);
    expect(fs.readFileSync(path.join(env["SANDBOX"] as string, "config.env"), "utf8")).toBe("REG-TOKEN\n".repeat(3));
});

// The runner's .NET libraries are named after their soname, which differs per suite: the trixie and
// bookworm Packages indexes of Debian's archive list libicu76/libssl3t64 (13) and libicu72/libssl3 (12).
test.each([
    ["bookworm", "libicu72 libssl3"],
    ["trixie", "libicu76 libssl3t64"],
])("on %s (a fresh container) it installs the runner's libraries by that suite's names", (suite, libs) => {
    const { env, sha } = sandbox(suite, { "dpkg-query": "exit 1" });
    const result = run(env, sha);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(calls(env)).toContain(
        `apt-get install -y -qq --no-install-recommends docker.io git curl ca-certificates tar libkrb5-3 zlib1g ${libs}`,
    );
});

test("a suite it has no library names for is refused before anything is installed", () => {
    const { env, sha } = sandbox("forky", { "dpkg-query": "exit 1" });
    const result = run(env, sha);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
        "ai-dualstack runner: Debian 'forky' is not known here; the runner's libraries are named for bookworm (12) and trixie (13): use a Debian 12 or 13 template\n",
    );
    expect(calls(env)).toEqual([]);
});
