# Host check for one ai-dualstack environment on one Proxmox node (body; components/host/bootstrap.ts
# renders the header). Read-only, run on every `pulumi up`. It stops the run on a fact that a reboot
# cannot fix (wrong card, shared IOMMU group, IOMMU off in the BIOS, Proxmox too old), and otherwise
# ends with one verdict line: reboot-required=no, or =yes with the reasons.
#
# Header variables:
#   AIDS_ENV           private | public
#   AIDS_KERNEL_ARGS   kernel arguments that must be active
#   AIDS_GPU_CHECKS    this environment's "address=vendor:device@group" entries, space-separated
#   AIDS_MEMORY_GIB    RAM the config says the node has (nodes.<node>.memory.totalGiB)
#   AIDS_MIN_PVE       oldest Proxmox VE release this project supports (major.minor)
# AIDS_ROOT (from the environment, tests only) prefixes every path so the script can run in a sandbox.

set -euo pipefail

R="${AIDS_ROOT:-}"
reasons=()

log() { printf 'ai-dualstack[%s]: %s\n' "$AIDS_ENV" "$*"; }
fail() { printf 'ai-dualstack[%s]: ERROR: %s\n' "$AIDS_ENV" "$*" >&2; exit 1; }

if command -v pveversion >/dev/null; then
    release="$(pveversion | sed -n 's|^pve-manager/\([0-9]*\.[0-9]*\).*|\1|p')"
    oldest="$(printf '%s\n%s\n' "$release" "$AIDS_MIN_PVE" | sort -V | head -n 1)"
    [[ -n "$release" && "$oldest" == "$AIDS_MIN_PVE" ]] ||
        fail "Proxmox VE ${release:-unknown} is older than ${AIDS_MIN_PVE} (needed for disk imports from the import content type); upgrade the node"
fi

# A half-made network change from the GUI would be applied by the next bridge reload.
if [[ -f "$R/etc/network/interfaces.new" ]]; then
    fail "/etc/network/interfaces.new holds pending network changes; apply or revert them in the Proxmox UI first, or the bridge reload would apply them too"
fi

if [[ -r "$R/proc/meminfo" ]]; then
    kib="$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' "$R/proc/meminfo")"
    gib=$((kib / 1048576))
    # The kernel reports a few percent less than is installed.
    if ((gib * 100 < AIDS_MEMORY_GIB * 90)); then
        fail "the node has ${gib} GiB of RAM but nodes.<node>.memory.totalGiB says ${AIDS_MEMORY_GIB}; fix totalGiB"
    fi
fi

read -r -a running <"$R/proc/cmdline" || true
read -r -a wanted <<<"$AIDS_KERNEL_ARGS"
args_active=1
for want in "${wanted[@]}"; do
    found=0
    for token in "${running[@]}"; do
        [[ "$token" == "$want" ]] && found=1
    done
    if [[ $found -eq 0 ]]; then
        reasons+=("kernel argument ${want} is not active")
        args_active=0
    fi
done

iommu_active=0
if compgen -G "$R/sys/kernel/iommu_groups/*" >/dev/null; then iommu_active=1; fi
if [[ $args_active -eq 1 ]] && [[ $iommu_active -eq 0 ]]; then
    fail "the IOMMU kernel arguments are active but no IOMMU groups exist: turn on VT-d (Intel) or AMD-Vi/IOMMU in the BIOS"
fi

own=" "
for check in $AIDS_GPU_CHECKS; do own+="${check%%=*} "; done

for check in $AIDS_GPU_CHECKS; do
    address="${check%%=*}"
    rest="${check#*=}"
    expected_id="${rest%@*}"
    expected_group="${rest#*@}"
    dev="$R/sys/bus/pci/devices/${address}"
    [[ -d "$dev" ]] || fail "no PCI device at ${address}; check pciAddress in Pulumi.yaml against \`lspci -D\`"
    vendor="$(cat "$dev/vendor")"
    device="$(cat "$dev/device")"
    actual_id="${vendor#0x}:${device#0x}"
    [[ "$actual_id" == "$expected_id" ]] || fail "${address} is ${actual_id}, but the config says ${expected_id}: did the cards move slots? Fix pciAddress or vendorDeviceId"
    if [[ $iommu_active -eq 1 ]] && [[ -e "$dev/iommu_group" ]]; then
        group="$(basename "$(readlink "$dev/iommu_group")")"
        [[ "$group" == "$expected_group" ]] || fail "${address} is in IOMMU group ${group}, but the config says ${expected_group}; fix iommuGroup"
        # Everything in the group goes to the VM with the card; bridges (class 0x0604) are harmless.
        for member in "$R/sys/kernel/iommu_groups/${group}/devices/"*; do
            [[ -e "$member" ]] || continue
            other="$(basename "$member")"
            [[ "$own" == *" ${other} "* ]] && continue
            class="$(cat "$member/class" 2>/dev/null || echo unknown)"
            [[ "$class" == 0x0604* ]] && continue
            fail "IOMMU group ${group} also holds ${other} (class ${class}), which would go to the VM with the card; move the card to another slot or list it under functions"
        done
    fi
    driver="none"
    if [[ -e "$dev/driver" ]]; then driver="$(basename "$(readlink "$dev/driver")")"; fi
    [[ "$driver" == "vfio-pci" ]] || reasons+=("${address} is bound to ${driver}, not vfio-pci")
done

if [[ ${#reasons[@]} -gt 0 ]]; then
    printf -v joined '%s; ' "${reasons[@]}"
    log "reboot-required=yes (${joined%; })"
else
    log "reboot-required=no"
fi
