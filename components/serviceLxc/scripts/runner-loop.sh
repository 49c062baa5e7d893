# The just-in-time runner loop (aids-runner.service, as root): one GitHub Actions job per registration, each in a
# runner unpacked afresh from the checked release, with an empty work folder and an empty home, and nothing of
# the job left running or lying in /tmp afterwards. Installed by runner-setup.sh, which writes the settings it
# sources. Root mints each job's configuration with the repository's GitHub token, which the `runner` user (the
# jobs) cannot read; the configuration reaches the runner in its environment, never in its arguments.
# Settings (/etc/ai-dualstack/runner/runner.conf): AIDS_RUNNER_REPO (owner/name), AIDS_RUNNER_NAME,
# AIDS_RUNNER_LABELS (comma list), AIDS_RUNNER_TARBALL. AIDS_ROOT (tests only) prefixes every path;
# AIDS_RUNNER_ONCE=1 (tests only) runs one job and stops.
set -euo pipefail
umask 077
R="${AIDS_ROOT:-}"
conf="$R/etc/ai-dualstack/runner"
# shellcheck source=/dev/null
. "$conf/runner.conf"
log() { echo "ai-dualstack runner: $*"; }
home="$R/home/runner"
runner_root="$R/var/lib/ai-dualstack/runner"
drift="$R/var/lib/ai-dualstack/drift"
textfiles="$R/var/lib/prometheus/node-exporter"

# Everything a job could leave for the next one: its processes, its home, the runner (work folder included),
# its files in the shared temporary folders.
clean() {
    pkill -KILL -u runner 2>/dev/null || true
    rm -rf "$home" "$runner_root"
    find "$R/tmp" "$R/var/tmp" "$R/dev/shm" -mindepth 1 -user runner -delete 2>/dev/null || true
    install -d -m 0700 -o runner -g runner "$home"
}

# The drift check's metric (tools/ciReport.ts), checked line by line, is all a job may hand to node-exporter.
publish_drift() {
    local f stack out
    for f in "$drift"/*.prom; do
        [[ -f "$f" ]] || continue
        stack="$(basename "$f" .prom)"
        [[ "$stack" =~ ^[a-z][a-z0-9-]*$ ]] || continue
        out="$(grep -E "^(# (HELP|TYPE) aidualstack_drift_resources .*|aidualstack_drift_resources\\{stack=\"${stack}\"\\} [0-9]+)$" "$f" || true)"
        [[ "$out" == *"aidualstack_drift_resources{stack=\"${stack}\"} "* ]] || continue
        mkdir -p "$textfiles"
        printf '%s\n' "$out" >"$textfiles/aidualstack-drift-${stack}.prom.tmp"
        chmod 0644 "$textfiles/aidualstack-drift-${stack}.prom.tmp"
        mv "$textfiles/aidualstack-drift-${stack}.prom.tmp" "$textfiles/aidualstack-drift-${stack}.prom"
    done
}

# A just-in-time configuration for one job: POST .../actions/runners/generate-jitconfig. The token goes to curl
# on its stdin (-K -), so no process's arguments show it.
jit_config() {
    local labels body answer
    labels="\"self-hosted\",\"linux\",\"x64\",\"${AIDS_RUNNER_LABELS//,/\",\"}\""
    body="{\"name\":\"${AIDS_RUNNER_NAME}-$(date +%s)\",\"runner_group_id\":1,\"labels\":[${labels}],\"work_folder\":\"_work\"}"
    answer="$(printf 'header = "Authorization: Bearer %s"\n' "$(<"$conf/github-token")" |
        curl -fsS -K - -X POST -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28" \
            --data "$body" "https://api.github.com/repos/${AIDS_RUNNER_REPO}/actions/runners/generate-jitconfig")" || return 1
    sed -n 's/.*"encoded_jit_config" *: *"\([^"]*\)".*/\1/p' <<<"$answer"
}

while true; do
    clean
    publish_drift
    install -d -m 0700 -o runner -g runner "$runner_root"
    tar -xzf "$AIDS_RUNNER_TARBALL" -C "$runner_root"
    chown -R runner:runner "$runner_root"
    if ! jit="$(jit_config)" || [[ -z "$jit" ]]; then
        log "GitHub refused a just-in-time configuration for ${AIDS_RUNNER_REPO} (check the token in serviceSecrets: it needs Administration: read and write on the repository); trying again in a minute"
        [[ "${AIDS_RUNNER_ONCE:-0}" == 1 ]] && exit 1
        sleep 60
        continue
    fi
    log "waiting for one job (${AIDS_RUNNER_LABELS})"
    # run.sh exits after its one job; GitHub removes a just-in-time runner once its job is done.
    (cd "$runner_root" && ACTIONS_RUNNER_INPUT_JITCONFIG="$jit" runuser -u runner -- ./run.sh) || log "the runner exited with $?"
    unset jit
    clean
    publish_drift
    [[ "${AIDS_RUNNER_ONCE:-0}" == 1 ]] && exit 0
done
