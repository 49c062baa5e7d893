# Gives a GPU container its card's device nodes and then starts it (body; gpuContainer.ts renders the
# header, and lxc-start.sh's body, which pins and starts, follows this one). Run as root on the node.
# Device passthrough (devN) is Proxmox's own field, but only root@pam may set it: pve-container
# src/PVE/LXC.pm, check_ct_modify_config_perm, "configuring device passthrough is only allowed for
# root@pam", and an API token never is root@pam; so `pct set --devN` runs here, over root SSH.
# Inputs (rendered above): AIDS_VMID, AIDS_GPU_ADDRESS (function 0 of the card), AIDS_GPU_NAME,
# AIDS_DRIVER_VERSION (the host driver the config names), AIDS_READY (1: the host check found the
# card on the host's driver; 0: a reboot is pending, so nothing is given and nothing starts).
set -euo pipefail
R="${AIDS_ROOT:-}"
log() { echo "ai-dualstack: CT ${AIDS_VMID}: $*"; }
fail() { echo "ai-dualstack: CT ${AIDS_VMID}: ERROR: $*" >&2; exit 1; }

if [[ "$AIDS_READY" != 1 ]]; then
    log "waits for the node's reboot (${AIDS_GPU_NAME} is not on the host's NVIDIA driver yet)"
    exit 0
fi

card="$R/sys/bus/pci/devices/${AIDS_GPU_ADDRESS}"
driver=none
[[ -e "$card/driver" ]] && driver="$(basename "$(readlink "$card/driver")")"
[[ "$driver" == nvidia ]] ||
    fail "${AIDS_GPU_NAME} (${AIDS_GPU_ADDRESS}) is bound to ${driver}, not the host's nvidia driver; reboot the node after the bootstrap"
loaded="$(sed -n 's/^NVRM version:.* \([0-9][0-9.]*\)  .*$/\1/p' "$R/proc/driver/nvidia/version" 2>/dev/null | head -n 1)"
[[ "$loaded" == "$AIDS_DRIVER_VERSION" ]] ||
    fail "the node runs NVIDIA driver ${loaded:-unknown}, but nodes.<node>.nvidiaDriver.version says ${AIDS_DRIVER_VERSION}; the container's userspace must match the loaded module (reboot after a driver upgrade, or fix the version)"

# The card's own node: its minor as the driver numbered it (the VMs' cards are on vfio-pci, so
# /dev/nvidia0 is not always this card).
minor="$(sed -n 's/^Device Minor:[[:space:]]*\([0-9]*\)[[:space:]]*$/\1/p' "$R/proc/driver/nvidia/gpus/${AIDS_GPU_ADDRESS}/information" 2>/dev/null)"
[[ -n "$minor" ]] || fail "no Device Minor for ${AIDS_GPU_ADDRESS} in /proc/driver/nvidia/gpus; is the nvidia module loaded?"
# nvidia-uvm's nodes exist only once something created them (nvidia-modprobe, from the driver).
if [[ ! -e "$R/dev/nvidia-uvm" ]] && command -v nvidia-modprobe >/dev/null; then
    nvidia-modprobe -u -c="$minor"
fi
devices=("/dev/nvidia${minor}" /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-uvm-tools)
for dev in "${devices[@]}"; do
    [[ -e "$R$dev" ]] || fail "${dev} does not exist on the node; load the driver (nvidia-modprobe -u -c=${minor}) and run again"
done
# MIG and the capability nodes, where the driver made them.
for cap in "$R"/dev/nvidia-caps/nvidia-cap*; do
    [[ -e "$cap" ]] && devices+=("${cap#"$R"}")
done

dev_want=()
for i in "${!devices[@]}"; do dev_want+=("dev${i}: ${devices[$i]}"); done
dev_current="$(pct config "$AIDS_VMID" --current 2>/dev/null | grep -E '^dev[0-9]+: ' || true)"
if [[ "$dev_current" != "$(printf '%s\n' "${dev_want[@]}")" ]]; then
    args=()
    for i in "${!devices[@]}"; do args+=("--dev${i}" "${devices[$i]}"); done
    # Entries beyond the wanted ones go (a card that lost its capability nodes).
    stale=()
    while read -r key _; do
        n="${key%:}"
        n="${n#dev}"
        [[ -n "$n" ]] && ((n >= ${#devices[@]})) && stale+=("dev${n}")
    done <<<"$dev_current"
    if [[ ${#stale[@]} -gt 0 ]]; then args+=(--delete "$(
        IFS=,
        echo "${stale[*]}"
    )"); fi
    pct set "$AIDS_VMID" "${args[@]}"
    log "device passthrough: ${devices[*]}"
    if pct status "$AIDS_VMID" | grep -q running; then
        log "runs with its former devices until its next start (pct reboot ${AIDS_VMID})"
    fi
fi
