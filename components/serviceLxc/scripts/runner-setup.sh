# Sets up the GitHub Actions runner in the CI/CD container, idempotently: what the runner needs, an unprivileged
# `runner` user (the jobs; in no privileged group), the pinned release checked against its sha256 and kept as
# the pristine copy each job's runner is unpacked from, the repository's GitHub token readable by root alone,
# and aids-runner.service, which registers just in time for one job at a time (runner-loop.sh). A runner
# registered by an earlier version of this set-up (a persistent one, svc.sh's service) is stopped and removed.
# Inputs (rendered above): AIDS_RUNNER_VERSION, AIDS_RUNNER_SHA256, AIDS_RUNNER_REPO, AIDS_RUNNER_NAME,
# AIDS_RUNNER_LABELS (comma list), AIDS_RUNNER_TOKEN, AIDS_RUNNER_LOOP_B64 (runner-loop.sh, base64).
# AIDS_ROOT (tests only) prefixes every path.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
umask 022
R="${AIDS_ROOT:-}"
log() { echo "ai-dualstack runner: $*"; }
release="$R/opt/actions-runner/release"
tarball="$release/actions-runner-linux-x64-$AIDS_RUNNER_VERSION.tar.gz"
conf="$R/etc/ai-dualstack/runner"
loop="$R/usr/local/lib/ai-dualstack/runner-loop.sh"
unit="$R/etc/systemd/system/aids-runner.service"
changed=0

# The runner's .NET libraries carry the suite's soname in their package names: Debian 12's template
# (Proxmox VE 8.4) has libicu72 and libssl3, Debian 13's (Proxmox VE 9) libicu76 and libssl3t64
# (the trixie and bookworm Packages indexes of Debian's archive). The jobs' program runs the host check
# with the system `ssh` (components/host/check.ts), and ssh-keygen makes the preview key: openssh-client.
# shellcheck source=/dev/null
suite="$(. "${AIDS_OS_RELEASE:-/etc/os-release}" && echo "${VERSION_CODENAME:-}")"
case "$suite" in
bookworm) dotnet_libs=(libicu72 libssl3) ;;
trixie) dotnet_libs=(libicu76 libssl3t64) ;;
*)
    echo "ai-dualstack runner: Debian '$suite' is not known here; the runner's libraries are named for bookworm (12) and trixie (13): use a Debian 12 or 13 template" >&2
    exit 1
    ;;
esac
pkgs=(git curl ca-certificates tar procps openssh-client libkrb5-3 zlib1g "${dotnet_libs[@]}")
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
id runner >/dev/null 2>&1 || useradd --create-home --shell /bin/bash runner
# The docker group is root in the container: with it a job could read the GitHub token and the next job.
if id -nG runner | grep -qw docker; then
    gpasswd -d runner docker >/dev/null
    log "runner removed from the docker group"
fi

# The persistent runner of earlier versions: its service stopped and removed. Its registration stays at GitHub,
# offline, until someone removes it there (Settings → Actions → Runners) or GitHub drops it.
old="$R/opt/actions-runner"
if [[ -f "$old/.service" ]]; then
    svc="$(cat "$old/.service")"
    systemctl disable --now --quiet "$svc" 2>/dev/null || true
    rm -f "$R/etc/systemd/system/$svc"
    log "removed the persistent runner $svc; remove its registration in the repository's Settings → Actions → Runners"
fi
if [[ -f "$old/.runner" || -f "$old/.service" ]]; then
    find "$old" -mindepth 1 -maxdepth 1 ! -name release -exec rm -rf {} +
fi

if [[ ! -f "$tarball" ]]; then
    log "downloading runner $AIDS_RUNNER_VERSION"
    url="https://github.com/actions/runner/releases/download/v$AIDS_RUNNER_VERSION/actions-runner-linux-x64-$AIDS_RUNNER_VERSION.tar.gz"
    mkdir -p "$release"
    if ! err="$(curl -fsSL -o "$tarball.part" "$url" 2>&1)"; then
        rm -f "$tarball.part"
        echo "ai-dualstack runner: ERROR: cannot download the Actions runner $AIDS_RUNNER_VERSION from $url (${err:-no answer}); the runner is not installed: make GitHub reachable from this container and run pulumi up again" >&2
        exit 1
    fi
    echo "$AIDS_RUNNER_SHA256  $tarball.part" | sha256sum -c --quiet || {
        rm -f "$tarball.part"
        exit 1
    }
    mv "$tarball.part" "$tarball"
    find "$release" -name 'actions-runner-linux-x64-*.tar.gz' ! -path "$tarball" -delete
    changed=1
fi

# write_if_changed FILE MODE: stdin to FILE (root's), only when it differs.
write_if_changed() {
    local new
    new="$(cat)"
    if [[ ! -f "$1" || "$(cat "$1")" != "$new" ]]; then
        mkdir -p "$(dirname "$1")"
        (umask 077 && printf '%s\n' "$new" >"$1")
        changed=1
    fi
    chmod "$2" "$1"
}

# Root's alone (0600, in a 0700 folder): the token mints runner registrations. printf is bash's own, so the
# token is in no process's arguments.
install -d -m 0700 "$conf"
printf '%s' "$AIDS_RUNNER_TOKEN" | write_if_changed "$conf/github-token" 0600
write_if_changed "$conf/runner.conf" 0600 <<CONF
AIDS_RUNNER_REPO='$AIDS_RUNNER_REPO'
AIDS_RUNNER_NAME='$AIDS_RUNNER_NAME'
AIDS_RUNNER_LABELS='$AIDS_RUNNER_LABELS'
AIDS_RUNNER_TARBALL='$tarball'
CONF
printf '%s' "$AIDS_RUNNER_LOOP_B64" | base64 -d | write_if_changed "$loop" 0755
write_if_changed "$unit" 0644 <<UNIT
[Unit]
Description=GitHub Actions runner, just in time, one job per registration (ai-dualstack)
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=/usr/local/lib/ai-dualstack/runner-loop.sh
Restart=always
RestartSec=10
KillMode=control-group

[Install]
WantedBy=multi-user.target
UNIT
# The drift check's metric (tools/ciReport.ts) is the one thing a job leaves, and the loop checks it.
install -d -m 0755 -o runner -g runner "$R/var/lib/ai-dualstack/drift"

if [[ $changed -eq 1 ]]; then
    systemctl daemon-reload
    systemctl enable --quiet aids-runner.service
    systemctl restart aids-runner.service
fi
systemctl is-active --quiet aids-runner.service || systemctl restart aids-runner.service
log "ready: aids-runner.service active, runner $AIDS_RUNNER_VERSION, one job per just-in-time registration for $AIDS_RUNNER_REPO"
