# Sets a GPU container up, idempotently, over root SSH (body; gpuContainer.ts renders the header):
# the login user, Docker, NVIDIA's userspace of exactly the host driver's version without its kernel
# module (the host's module drives the card), and the NVIDIA container toolkit set up for an
# unprivileged LXC. Ends by asking nvidia-smi for the card, the first step that needs the real card.
# Inputs (rendered above): AIDS_DRIVER_VERSION, AIDS_DRIVER_URL (NVIDIA's .run of that version),
# AIDS_USER, AIDS_SSH_KEYS (one per line), AIDS_TIMEZONE, AIDS_TOOLKIT_REPO_B64 (a POSIX sh command,
# base64: the toolkit's sources line, written only with NVIDIA's pinned key, lib/aptKeys.ts).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack gpu-container: $*"; }
fail() { echo "ai-dualstack gpu-container: ERROR: $*" >&2; exit 1; }

# --- the base: packages, time zone, the login user (what cloud-init does for a VM) ------------
missing=()
for pkg in ca-certificates curl gnupg sudo docker.io kmod pciutils; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ "$(readlink /etc/localtime 2>/dev/null || true)" != "/usr/share/zoneinfo/${AIDS_TIMEZONE}" ]]; then
    ln -sfn "/usr/share/zoneinfo/${AIDS_TIMEZONE}" /etc/localtime
    echo "$AIDS_TIMEZONE" >/etc/timezone
    log "time zone ${AIDS_TIMEZONE}"
fi
if ! id "$AIDS_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$AIDS_USER"
    log "created user ${AIDS_USER}"
fi
id -nG "$AIDS_USER" | grep -qw docker || usermod -aG docker "$AIDS_USER"
sudoers="/etc/sudoers.d/ai-dualstack-${AIDS_USER}"
if [[ "$(cat "$sudoers" 2>/dev/null || true)" != "${AIDS_USER} ALL=(ALL) NOPASSWD:ALL" ]]; then
    (umask 0337 && echo "${AIDS_USER} ALL=(ALL) NOPASSWD:ALL" >"$sudoers")
fi
home="$(getent passwd "$AIDS_USER" | cut -d: -f6)"
keys="${home}/.ssh/authorized_keys"
if [[ "$(cat "$keys" 2>/dev/null || true)" != "$AIDS_SSH_KEYS" ]]; then
    install -d -m 0700 -o "$AIDS_USER" -g "$AIDS_USER" "${home}/.ssh"
    printf '%s\n' "$AIDS_SSH_KEYS" >"$keys"
    chown "$AIDS_USER:$AIDS_USER" "$keys"
    chmod 0600 "$keys"
    log "ssh keys for ${AIDS_USER}"
fi
systemctl enable --now docker >/dev/null 2>&1 || true

# --- NVIDIA's userspace, the host driver's exact version, no kernel module ----------------------
# The host's /proc/driver/nvidia/version shows through: a mismatch would fail every CUDA call.
host_version="$(sed -n 's/^NVRM version:.* \([0-9][0-9.]*\)  .*$/\1/p' /proc/driver/nvidia/version 2>/dev/null | head -n 1 || true)"
if [[ -n "$host_version" && "$host_version" != "$AIDS_DRIVER_VERSION" ]]; then
    fail "the host's NVIDIA module is ${host_version}, but the config says ${AIDS_DRIVER_VERSION} (nodes.<node>.nvidiaDriver.version); the userspace must match the module"
fi
installed="$(nvidia-smi --version 2>/dev/null | sed -n 's/^DRIVER version *: *//p' || true)"
if [[ -z "$installed" ]]; then
    installed="$(cat /var/lib/ai-dualstack/nvidia-userspace 2>/dev/null || true)"
fi
if [[ "$installed" != "$AIDS_DRIVER_VERSION" ]]; then
    work="$(mktemp -d)"
    run="${work}/NVIDIA-Linux-x86_64-${AIDS_DRIVER_VERSION}.run"
    log "downloading NVIDIA's ${AIDS_DRIVER_VERSION} userspace from ${AIDS_DRIVER_URL}"
    curl -fsSL --retry 2 --connect-timeout 20 -o "$run" "$AIDS_DRIVER_URL" ||
        { rm -rf "$work"; fail "cannot download the NVIDIA driver ${AIDS_DRIVER_VERSION} from ${AIDS_DRIVER_URL}: is ${AIDS_DRIVER_URL%%/XFree86*} reachable from the container (the public firewall lets out web traffic to the internet)? Nothing was installed"; }
    # --no-kernel-module: the host's module drives the card; the container cannot load one.
    sh "$run" --silent --no-kernel-module --no-questions --ui=none --no-nouveau-check --no-x-check ||
        { rm -rf "$work"; fail "NVIDIA's installer ${AIDS_DRIVER_VERSION} failed; /var/log/nvidia-installer.log says why"; }
    rm -rf "$work"
    install -d /var/lib/ai-dualstack
    echo "$AIDS_DRIVER_VERSION" >/var/lib/ai-dualstack/nvidia-userspace
    log "NVIDIA userspace ${AIDS_DRIVER_VERSION} installed (no kernel module)"
fi

# --- the container toolkit, set up for an unprivileged LXC -------------------------------------
if ! command -v nvidia-ctk >/dev/null; then
    sh -c "$(printf '%s' "$AIDS_TOOLKIT_REPO_B64" | base64 -d)" ||
        fail "the NVIDIA container toolkit's repository was not added (above); nothing else changed"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nvidia-container-toolkit >/dev/null
    log "installed the NVIDIA container toolkit"
fi
# An unprivileged container may not write the device cgroup: Proxmox grants the devices (devN),
# so libnvidia-container must leave the cgroups alone.
config=/etc/nvidia-container-runtime/config.toml
if ! grep -Eq '^[[:space:]]*no-cgroups[[:space:]]*=[[:space:]]*true' "$config" 2>/dev/null; then
    nvidia-ctk config --set nvidia-container-cli.no-cgroups=true --in-place
    log "nvidia-container-cli: no-cgroups"
fi
if ! grep -q '"nvidia"' /etc/docker/daemon.json 2>/dev/null; then
    nvidia-ctk runtime configure --runtime=docker
    systemctl restart docker
    log "Docker knows the nvidia runtime"
fi

# --- the first step that needs the real card ----------------------------------------------------
nvidia-smi -L || fail "nvidia-smi sees no GPU: are the card's device nodes passed through (pct config), and is the host's driver ${AIDS_DRIVER_VERSION}?"
log "ready"
