// The runner set-up and its just-in-time loop, run by real bash in a sandbox (AIDS_ROOT prefixes every path):
// stand-ins for apt, systemd, the user tools and curl record their calls, and curl hands over a fake runner
// release (real sha256sum, real tar) whose run.sh records what it was given. The set-up keeps the checked
// release and the repository's GitHub token (root's alone), installs the loop and its service, and changes
// nothing the second time; the loop mints one job's configuration with the token on curl's stdin, hands it to
// run.sh in the environment, and gives every job an empty work folder and home.

import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RUNNER_SHA256, RUNNER_VERSION, renderRunnerScript } from "../../../components/serviceLxc/cicdRunner";
import { loadScript } from "../../../lib/scripts";

const TOKEN = "github_pat_S3cr3t";
const JIT = "eyJKSVQiOiJjb25maWcifQ==";

const STUBS: Record<string, string> = {
    "apt-get": 'echo "apt-get $*" >>"$CALLS"',
    "dpkg-query": 'echo "install ok installed"',
    systemctl:
        'echo "systemctl $*" >>"$CALLS"; [[ "$1" != is-active ]] || [[ -f "$SANDBOX/active" ]]; r=$?; [[ "$1" != restart ]] || touch "$SANDBOX/active"; exit $r',
    id: 'if [[ "$1" == -nG ]]; then cat "$SANDBOX/groups" 2>/dev/null || echo runner; else exit 0; fi',
    useradd: 'echo "useradd $*" >>"$CALLS"',
    gpasswd: 'echo "gpasswd $*" >>"$CALLS"; echo runner >"$SANDBOX/groups"',
    pkill: 'echo "pkill $*" >>"$CALLS"',
    runuser: 'echo "runuser $*" >>"$CALLS"; shift 3; "$@"',
    chown: "true",
    // The sandbox has no user runner: its files are the test's own.
    find: 'a=(); for x in "$@"; do [[ "$x" == runner ]] && x="$(whoami)"; a+=("$x"); done; exec /usr/bin/find "${a[@]}"',
    // install -d [-m MODE] [-o U -g G] DIR: the folder with its mode (the sandbox has no user runner).
    install:
        'mode=; while [[ $# -gt 1 ]]; do case "$1" in -m) mode="$2"; shift 2 ;; -o|-g) shift 2 ;; *) shift ;; esac; done; mkdir -p "$1"; [[ -z "$mode" ]] || chmod "$mode" "$1"',
    // The release download (-o FILE) or the API (-K -: its config, the token's header, on stdin).
    curl: [
        'echo "curl $*" >>"$CALLS"',
        'if [[ " $* " == *" -K - "* ]]; then cat >>"$SANDBOX/curl.stdin"; echo \'{"id":7,"encoded_jit_config":"' +
            JIT +
            "\"}'; exit 0; fi",
        'while [[ "$1" != -o ]]; do shift; done; cp "$TARBALL" "$2"',
    ].join("\n"),
};

/** The fake release: run.sh records its arguments, its environment's configuration and the work folder it found. */
const RELEASE: Record<string, string> = {
    "run.sh": [
        'echo "run.sh $*" >>"$CALLS"',
        'echo "${ACTIONS_RUNNER_INPUT_JITCONFIG:-}" >>"$SANDBOX/run.env"',
        'echo "work:$(ls -A _work 2>/dev/null | tr "\\n" " ") home:$(ls -A "$AIDS_ROOT/home/runner" | tr "\\n" " ")" >>"$SANDBOX/run.found"',
        // What a job leaves behind: a file in the work folder, one in its home, one in /tmp, and a drift metric
        // with a forged line beside the real one.
        'mkdir -p _work/repo && touch _work/repo/left-behind "$AIDS_ROOT/home/runner/.bashrc" "$AIDS_ROOT/tmp/job-file"',
        'printf \'%s\\n\' "# TYPE aidualstack_drift_resources gauge" \'aidualstack_drift_resources{stack="private"} 3\' \'aidualstack_backup_last_run_success{job="x"} 1\' >"$AIDS_ROOT/var/lib/ai-dualstack/drift/private.prom"',
    ].join("\n"),
};

function sandbox(suite = "bookworm", stubs: Record<string, string> = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aids-runner-"));
    const root = path.join(dir, "root");
    const bin = path.join(dir, "bin");
    const rel = path.join(dir, "release");
    for (const d of [bin, rel, path.join(root, "tmp"), path.join(root, "var", "tmp"), path.join(root, "dev", "shm")]) {
        fs.mkdirSync(d, { recursive: true });
    }
    for (const [name, body] of Object.entries({ ...STUBS, ...stubs })) {
        fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    }
    for (const [name, body] of Object.entries(RELEASE)) {
        fs.writeFileSync(path.join(rel, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    }
    fs.writeFileSync(path.join(dir, "os-release"), `ID=debian\nVERSION_CODENAME=${suite}\n`);
    const tarball = path.join(dir, "release.tar.gz");
    execFileSync("tar", ["-czf", tarball, "-C", rel, "."]);
    const sha = createHash("sha256").update(fs.readFileSync(tarball)).digest("hex");
    const env = {
        ...process.env,
        PATH: `${bin}:${process.env["PATH"] ?? ""}`,
        CALLS: path.join(dir, "calls"),
        SANDBOX: dir,
        TARBALL: tarball,
        AIDS_ROOT: root,
        AIDS_OS_RELEASE: path.join(dir, "os-release"),
    };
    return { dir, root, env, sha };
}

const runner = { repository: "octo/ai-dualstack", tokenSecret: "t", labels: ["ai-dualstack"] };

function setup(env: NodeJS.ProcessEnv, sha: string) {
    const script = renderRunnerScript(runner, "private-cicd", TOKEN).replace(
        `AIDS_RUNNER_SHA256='${RUNNER_SHA256}'`,
        `AIDS_RUNNER_SHA256='${sha}'`,
    );
    expect(script).not.toBe(renderRunnerScript(runner, "private-cicd", TOKEN));
    return spawnSync("bash", ["-s"], { input: script, env, encoding: "utf8" });
}

/** One pass of the installed loop, as its service runs it. */
function loopOnce(env: NodeJS.ProcessEnv, root: string) {
    return spawnSync("bash", [path.join(root, "usr/local/lib/ai-dualstack/runner-loop.sh")], {
        env: { ...env, AIDS_RUNNER_ONCE: "1" },
        encoding: "utf8",
    });
}

const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
const calls = (env: NodeJS.ProcessEnv) =>
    read(env["CALLS"] as string)
        .trim()
        .split("\n")
        .filter(Boolean);
const mode = (f: string) => fs.statSync(f).mode & 0o777;

test("installs the checked release, the token for root alone, the loop and its service; the second time changes nothing", () => {
    const { root, env, sha } = sandbox();
    const first = setup(env, sha);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    const release = path.join(root, `opt/actions-runner/release/actions-runner-linux-x64-${RUNNER_VERSION}.tar.gz`);
    expect(createHash("sha256").update(fs.readFileSync(release)).digest("hex")).toBe(sha);
    const conf = path.join(root, "etc/ai-dualstack/runner");
    expect(read(path.join(conf, "github-token"))).toBe(`${TOKEN}\n`);
    // Neither the token's file nor its folder is readable by anyone but root (the jobs run as runner).
    expect(mode(path.join(conf, "github-token"))).toBe(0o600);
    expect(mode(conf)).toBe(0o700);
    expect(mode(path.join(conf, "runner.conf"))).toBe(0o600);
    expect(read(path.join(conf, "runner.conf"))).toBe(
        `AIDS_RUNNER_REPO='octo/ai-dualstack'\nAIDS_RUNNER_NAME='private-cicd'\nAIDS_RUNNER_LABELS='ai-dualstack'\nAIDS_RUNNER_TARBALL='${release}'\n`,
    );
    const loop = path.join(root, "usr/local/lib/ai-dualstack/runner-loop.sh");
    expect(read(loop)).toBe(
        `#!/usr/bin/env bash\n${loadScript(path.join(__dirname, "../../../components/serviceLxc"), "runner-loop.sh")}`,
    );
    expect(mode(loop)).toBe(0o755);
    expect(read(path.join(root, "etc/systemd/system/aids-runner.service"))).toContain(
        "ExecStart=/usr/local/lib/ai-dualstack/runner-loop.sh\nRestart=always",
    );
    const once = calls(env);
    expect(once.filter((c) => c.includes(TOKEN))).toEqual([]);
    expect(once.filter((c) => c.startsWith("curl"))).toHaveLength(1);
    expect(once).toEqual(
        expect.arrayContaining([
            "systemctl daemon-reload",
            "systemctl enable --quiet aids-runner.service",
            "systemctl restart aids-runner.service",
        ]),
    );
    expect(first.stdout).toContain(`ready: aids-runner.service active, runner ${RUNNER_VERSION}`);

    fs.rmSync(env["CALLS"]);
    const second = setup(env, sha);
    expect(second.status).toBe(0);
    expect(calls(env)).toEqual(["systemctl is-active --quiet aids-runner.service"]);
});

test("the loop: one job's configuration minted with the token on curl's stdin, handed over in the environment, and every job starts empty", () => {
    const { dir, root, env, sha } = sandbox();
    expect(setup(env, sha).status).toBe(0);
    fs.rmSync(env["CALLS"]);
    fs.mkdirSync(path.join(root, "var/lib/ai-dualstack/drift"), { recursive: true });

    for (let i = 0; i < 2; i++) {
        const r = loopOnce(env, root);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
    }
    const all = calls(env);
    // The token and the configuration are in no process's arguments.
    expect(all.filter((c) => c.includes(TOKEN) || c.includes(JIT))).toEqual([]);
    expect(read(path.join(dir, "curl.stdin"))).toBe(`header = "Authorization: Bearer ${TOKEN}"\n`.repeat(2));
    const api = all.filter((c) => c.startsWith("curl"));
    expect(api).toHaveLength(2);
    expect(api[0]).toMatch(
        /^curl -fsS -K - -X POST .* --data \{"name":"private-cicd-\d+","runner_group_id":1,"labels":\["self-hosted","linux","x64","ai-dualstack"\],"work_folder":"_work"\} https:\/\/api\.github\.com\/repos\/octo\/ai-dualstack\/actions\/runners\/generate-jitconfig$/,
    );
    expect(all.filter((c) => c.startsWith("run.sh"))).toEqual(["run.sh ", "run.sh "]);
    expect(read(path.join(dir, "run.env"))).toBe(`${JIT}\n${JIT}\n`);
    expect(all.filter((c) => c.startsWith("runuser"))).toEqual([
        "runuser -u runner -- ./run.sh",
        "runuser -u runner -- ./run.sh",
    ]);
    // The second job found neither the first one's work folder nor its home nor its /tmp file.
    expect(read(path.join(dir, "run.found"))).toBe("work: home:\nwork: home:\n");
    expect(fs.existsSync(path.join(root, "tmp/job-file"))).toBe(false);
    expect(fs.existsSync(path.join(root, "var/lib/ai-dualstack/runner/_work"))).toBe(false);
    expect(all.filter((c) => c.startsWith("pkill"))).toContain("pkill -KILL -u runner");
    // The drift metric reached node-exporter's textfiles, without the forged line beside it.
    expect(read(path.join(root, "var/lib/prometheus/node-exporter/aidualstack-drift-private.prom"))).toBe(
        '# TYPE aidualstack_drift_resources gauge\naidualstack_drift_resources{stack="private"} 3\n',
    );
});

test("a refused configuration: the loop says which token to check, and starts no runner", () => {
    const { root, env, sha } = sandbox("bookworm", {
        curl: 'if [[ " $* " == *" -K - "* ]]; then cat >/dev/null; echo "curl: (22) 403" >&2; exit 22; fi; while [[ "$1" != -o ]]; do shift; done; cp "$TARBALL" "$2"',
    });
    expect(setup(env, sha).status).toBe(0);
    const r = loopOnce(env, root);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
        "GitHub refused a just-in-time configuration for octo/ai-dualstack (check the token in serviceSecrets: it needs Administration: read and write on the repository)",
    );
    expect(calls(env).filter((c) => c.startsWith("run.sh") || c.startsWith("runuser"))).toEqual([]);
});

test("refuses a download whose sha256 differs, before keeping it or starting anything", () => {
    const { root, env } = sandbox();
    const result = setup(env, "0".repeat(64));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/did NOT match/);
    expect(fs.readdirSync(path.join(root, "opt/actions-runner/release"))).toEqual([]);
    expect(calls(env).filter((c) => c.startsWith("systemctl"))).toEqual([]);
    expect(fs.existsSync(path.join(root, "etc/ai-dualstack/runner/github-token"))).toBe(false);
});

test("an unreachable GitHub stops the set-up with one line naming the URL, nothing kept or started", () => {
    const { root, env, sha } = sandbox("bookworm", {
        curl: 'echo "curl: (6) Could not resolve host: github.com" >&2; exit 6',
    });
    const result = setup(env, sha);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
        `ai-dualstack runner: ERROR: cannot download the Actions runner ${RUNNER_VERSION} from https://github.com/actions/runner/releases/download/v${RUNNER_VERSION}/actions-runner-linux-x64-${RUNNER_VERSION}.tar.gz (curl: (6) Could not resolve host: github.com); the runner is not installed: make GitHub reachable from this container and run pulumi up again\n`,
    );
    expect(fs.readdirSync(path.join(root, "opt/actions-runner/release"))).toEqual([]);
    expect(calls(env).filter((c) => c.startsWith("systemctl"))).toEqual([]);
});

test("an earlier persistent runner: its service stopped and removed, the runner left the docker group", () => {
    const { root, env, sha } = sandbox();
    const old = path.join(root, "opt/actions-runner");
    fs.mkdirSync(old, { recursive: true });
    fs.writeFileSync(path.join(old, ".service"), "actions.runner.octo-ai-dualstack.private-cicd.service\n");
    fs.writeFileSync(path.join(old, ".runner"), "{}");
    fs.writeFileSync(path.join(old, ".credentials"), "{}");
    fs.writeFileSync(path.join(env["SANDBOX"], "groups"), "runner docker\n");
    const r = setup(env, sha);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(calls(env)).toEqual(
        expect.arrayContaining([
            "gpasswd -d runner docker",
            "systemctl disable --now --quiet actions.runner.octo-ai-dualstack.private-cicd.service",
        ]),
    );
    expect(fs.readdirSync(old)).toEqual(["release"]);
});

// The runner's .NET libraries are named after their soname, which differs per suite: the trixie and
// bookworm Packages indexes of Debian's archive list libicu76/libssl3t64 (13) and libicu72/libssl3 (12).
test.each([
    ["bookworm", "libicu72 libssl3"],
    ["trixie", "libicu76 libssl3t64"],
])(
    "on %s (a fresh container) it installs the runner's libraries by that suite's names, and no Docker",
    (suite, libs) => {
        const { env, sha } = sandbox(suite, { "dpkg-query": "exit 1" });
        const result = setup(env, sha);
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
        expect(calls(env)).toContain(
            `apt-get install -y -qq --no-install-recommends git curl ca-certificates tar procps openssh-client libkrb5-3 zlib1g ${libs}`,
        );
    },
);

test("a suite it has no library names for is refused before anything is installed", () => {
    const { env, sha } = sandbox("forky", { "dpkg-query": "exit 1" });
    const result = setup(env, sha);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
        "ai-dualstack runner: Debian 'forky' is not known here; the runner's libraries are named for bookworm (12) and trixie (13): use a Debian 12 or 13 template\n",
    );
    expect(calls(env)).toEqual([]);
});
