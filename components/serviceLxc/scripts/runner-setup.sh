# Sets up the GitHub Actions runner in the CI/CD container, idempotently: Docker (the container has
# nesting on) and what the runner needs, an unprivileged `runner` user in the docker group, the pinned
# runner release checked against its sha256, its registration with the repository (the one-hour
# token from serviceSecrets, used only when it is not registered yet or its labels changed), and its
# systemd service.
# Inputs (rendered above): AIDS_RUNNER_VERSION, AIDS_RUNNER_SHA256, AIDS_RUNNER_URL, AIDS_RUNNER_NAME,
# AIDS_RUNNER_LABELS (comma list), AIDS_RUNNER_TOKEN.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack runner: $*"; }
dir="${AIDS_RUNNER_DIR:-/opt/actions-runner}" # another folder only in the sandbox test
as_runner() { (cd "$dir" && runuser -u runner -- "$@"); }

# The runner's .NET libraries carry the suite's soname in their package names: Debian 12's template
# (Proxmox VE 8.4) has libicu72 and libssl3, Debian 13's (Proxmox VE 9) libicu76 and libssl3t64
# (the trixie and bookworm Packages indexes of Debian's archive).
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
pkgs=(docker.io git curl ca-certificates tar libkrb5-3 zlib1g "${dotnet_libs[@]}")
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
systemctl enable --now --quiet docker
id runner >/dev/null 2>&1 || useradd --create-home --shell /bin/bash runner
id -nG runner | grep -qw docker || usermod -aG docker runner

svc_name() { cat "$dir/.service" 2>/dev/null || true; }
if [[ "$(cat "$dir/.aids-version" 2>/dev/null || true)" != "$AIDS_RUNNER_VERSION" ]]; then
    log "installing runner $AIDS_RUNNER_VERSION"
    tarball="/tmp/actions-runner-linux-x64-$AIDS_RUNNER_VERSION.tar.gz"
    url="https://github.com/actions/runner/releases/download/v$AIDS_RUNNER_VERSION/actions-runner-linux-x64-$AIDS_RUNNER_VERSION.tar.gz"
    if ! err="$(curl -fsSL -o "$tarball" "$url" 2>&1)"; then
        rm -f "$tarball"
        echo "ai-dualstack runner: ERROR: cannot download the Actions runner $AIDS_RUNNER_VERSION from $url (${err:-no answer}); the runner is not installed: make GitHub reachable from this container and run pulumi up again" >&2
        exit 1
    fi
    echo "$AIDS_RUNNER_SHA256  $tarball" | sha256sum -c --quiet
    [[ -z "$(svc_name)" ]] || systemctl stop "$(svc_name)" || true
    mkdir -p "$dir"
    tar -xzf "$tarball" -C "$dir"
    rm -f "$tarball"
    chown -R runner:runner "$dir"
    printf '%s\n' "$AIDS_RUNNER_VERSION" >"$dir/.aids-version"
fi

# The token never goes into config.sh's arguments, which `ps` shows to every user of the container:
# the runner reads any argument from ACTIONS_RUNNER_INPUT_<NAME> in its environment and removes it
# from there (actions/runner src/Runner.Listener/CommandSettings.cs), so the token travels in the
# environment of the one command that needs it (runuser keeps the environment without --login).
# Registered with other labels: remove it first (that, too, needs a fresh token).
if [[ -f "$dir/.runner" && "$(cat "$dir/.aids-labels" 2>/dev/null || true)" != "$AIDS_RUNNER_LABELS" ]]; then
    log "labels changed to $AIDS_RUNNER_LABELS: re-registering"
    [[ -z "$(svc_name)" ]] || (cd "$dir" && ./svc.sh stop && ./svc.sh uninstall) >/dev/null
    ACTIONS_RUNNER_INPUT_TOKEN="$AIDS_RUNNER_TOKEN" as_runner ./config.sh remove >/dev/null ||
        { log "removal refused: put a fresh registration token in serviceSecrets and run pulumi up again"; exit 1; }
fi
if [[ ! -f "$dir/.runner" ]]; then
    log "registering $AIDS_RUNNER_NAME with $AIDS_RUNNER_URL (labels self-hosted,linux,x64,$AIDS_RUNNER_LABELS)"
    ACTIONS_RUNNER_INPUT_TOKEN="$AIDS_RUNNER_TOKEN" as_runner ./config.sh --unattended --replace --url "$AIDS_RUNNER_URL" \
        --name "$AIDS_RUNNER_NAME" --labels "$AIDS_RUNNER_LABELS" --work _work >/dev/null ||
        { log "registration refused: the token lasts one hour; put a fresh one in serviceSecrets and run pulumi up again"; exit 1; }
    printf '%s\n' "$AIDS_RUNNER_LABELS" >"$dir/.aids-labels"
fi
if [[ -z "$(svc_name)" ]]; then
    (cd "$dir" && ./svc.sh install runner) >/dev/null
fi
systemctl is-active --quiet "$(svc_name)" || (cd "$dir" && ./svc.sh start) >/dev/null
log "ready: $(svc_name) active, docker $(docker version --format '{{.Server.Version}}')"
