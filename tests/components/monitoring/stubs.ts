// Stand-ins of a Debian guest's package and service tools for running the monitoring set-ups for real
// in a sandbox: apt-get, dpkg-query and apt-mark keep installed versions in a state folder; systemctl,
// curl, runuser and pvesh record their calls. promtool and amtool stay the real ones.

import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface GuestSandbox {
    readonly root: string;
    readonly state: string;
    readonly log: string;
    /** Runs a rendered script with bash, the stand-ins first on PATH (and `env`); its status and output. */
    run(script: string, env?: Readonly<Record<string, string>>): { status: number; output: string };
    /** The calls recorded since the last `clearLog`. */
    calls(): string[];
    clearLog(): void;
    read(p: string): string;
}

const STUBS: Record<string, string> = {
    // NAME=VERSION installs that version; a bare NAME the suite's candidate (candidate-NAME, else 99.0).
    "apt-get": `echo "apt-get $*" >>"$AIDS_LOG"
for a in "$@"; do case "$a" in
  -*|install|update) ;;
  *=*) echo "\${a#*=}" >"$AIDS_STATE/pkg-\${a%%=*}" ;;
  *) cat "$AIDS_STATE/candidate-$a" 2>/dev/null >"$AIDS_STATE/pkg-$a" || echo 99.0 >"$AIDS_STATE/pkg-$a" ;;
esac; done`,
    "dpkg-query": `for a in "$@"; do last="$a"; done; cat "$AIDS_STATE/pkg-$last" 2>/dev/null || exit 1`,
    // A hold is a file held-NAME: showhold lists it, unhold removes it.
    "apt-mark": `echo "apt-mark $*" >>"$AIDS_LOG"
case "$1" in
  showhold) [[ ! -f "$AIDS_STATE/held-$2" ]] || echo "$2" ;;
  unhold) rm -f "$AIDS_STATE/held-$2" ;;
  hold) touch "$AIDS_STATE/held-$2" ;;
esac`,
    systemctl: `echo "systemctl $*" >>"$AIDS_LOG"
case "$1" in
  is-active) [[ -f "$AIDS_STATE/active-\${!#}" ]] ;;
  restart|start) touch "$AIDS_STATE/active-$2" ;;
esac`,
    // -o FILE gets AIDS_CURL_BODY (a test's apt key) when set, else a stub line; AIDS_CURL_FAIL: curl's
    // error for a host that cannot be reached, exit 6 (curl's "could not resolve host").
    curl: `echo "curl $*" >>"$AIDS_LOG"
if [[ -n "\${AIDS_CURL_FAIL:-}" ]]; then echo "$AIDS_CURL_FAIL" >&2; exit 6; fi
while [[ $# -gt 0 ]]; do if [[ "$1" == "-o" ]]; then cp "\${AIDS_CURL_BODY:-/nonexistent}" "$2" 2>/dev/null || echo stub >"$2"; shift; fi; shift; done`,
    // What a command reads with --password-from-stdin goes to a file of its own: the log holds arguments only.
    runuser: `echo "runuser $*" >>"$AIDS_LOG"
case " $* " in *" --password-from-stdin "*) cat >>"$AIDS_STATE/stdin-runuser" ;; esac`,
    pvesh: `echo "pvesh $*" >>"$AIDS_LOG"
case "$1" in
  get) cat "$AIDS_STATE/rules.json" 2>/dev/null || echo "[]" ;;
  create) shift 2; src="" comment=""; while [[ $# -gt 0 ]]; do case "$1" in --source) src="$2";; --comment) comment="$2";; esac; shift; done
          printf '[{"pos":0,"source":"%s","comment":"%s"}]' "$src" "$comment" >"$AIDS_STATE/rules.json" ;;
  delete) echo "[]" >"$AIDS_STATE/rules.json" ;;
esac`,
    // python3 -m venv DIR makes a venv whose pip records what it installs; everything else is the real python3.
    python3: `if [[ "$1" == "-m" && "$2" == "venv" ]]; then mkdir -p "$3/bin"
cat >"$3/bin/pip" <<'PIP'
#!/usr/bin/env bash
echo "pip $*" >>"$AIDS_LOG"
dir="$(dirname "$0")"
case "$1" in
  install) last="\${!#}"; echo "\${last##*==}" >"$dir/.version" ;;
  show) [[ -f "$dir/.version" ]] && echo "Version: $(cat "$dir/.version")" ;;
esac
PIP
chmod +x "$3/bin/pip"; exit 0; fi
exec "$AIDS_REAL_PYTHON" "$@"`,
};

export function makeGuestSandbox(): GuestSandbox {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "aids-guest-"));
    const [root, state, bin] = ["root", "state", "bin"].map((d) => path.join(base, d)) as [string, string, string];
    for (const d of [root, state, bin]) fs.mkdirSync(d);
    const log = path.join(base, "calls.log");
    fs.writeFileSync(log, "");
    for (const [name, body] of Object.entries(STUBS)) {
        fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    }
    const realPython = execFileSync("bash", ["-c", "command -v python3"], { encoding: "utf8" }).trim();
    return {
        root,
        state,
        log,
        run(script, env = {}) {
            const r = spawnSync("bash", ["-s"], {
                input: script,
                encoding: "utf8",
                env: {
                    ...process.env,
                    PATH: `${bin}:${process.env["PATH"] ?? ""}`,
                    AIDS_ROOT: root,
                    AIDS_STATE: state,
                    AIDS_LOG: log,
                    AIDS_REAL_PYTHON: realPython,
                    ...env,
                },
            });
            return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
        },
        calls: () => fs.readFileSync(log, "utf8").split("\n").filter(Boolean),
        clearLog: () => fs.writeFileSync(log, ""),
        read: (p) => fs.readFileSync(path.join(root, p), "utf8"),
    };
}
