# Host bootstrap for one ai-dualstack environment on one Proxmox node (body; the header that
# components/host/bootstrap.ts renders above it sets the variables). Idempotent: run it any number
# of times. It never reboots; host-check.sh reports whether a reboot is still needed.
#
# Header variables:
#   AIDS_ENV           private | public (owner of the vfio fragment)
#   AIDS_MODE          apply | remove (remove drops this environment's fragment only)
#   AIDS_KERNEL_ARGS   host-wide kernel arguments, identical from either stack
#   AIDS_VFIO_IDS      every GPU's vendor:device ids on the node (both environments), comma-separated
#   AIDS_BLACKLIST     host GPU drivers never loaded, space-separated
#   AIDS_SOFTDEPS      host GPU drivers that load only after vfio-pci, so that it claims the VMs' cards
#                      first (the blacklisted ones, and the NVIDIA driver kept for a container's card)
#   AIDS_NVIDIA_VERSION the host's NVIDIA driver version for the containers' cards, or empty for none
#   AIDS_DEBIAN_SUITE  the node's Debian suite (bookworm, trixie), whose non-free archive has the driver
#   AIDS_ZFS_ARC_MAX   bytes, or empty to leave the ARC alone
#   AIDS_DATASTORE     datastore that must hold snippets, imports and templates
#   AIDS_DC_FIREWALL   1 to make sure the datacenter firewall is on
#   AIDS_MGMT_SOURCES  networks added to the firewall's management IPSet first, space-separated
# AIDS_ROOT (from the environment, tests only) prefixes every path so the script can run in a sandbox.

set -euo pipefail

R="${AIDS_ROOT:-}"
initramfs_stale=0
bootloader_stale=0

log() { printf 'ai-dualstack[%s]: %s\n' "$AIDS_ENV" "$*"; }
fail() { printf 'ai-dualstack[%s]: ERROR: %s\n' "$AIDS_ENV" "$*" >&2; exit 1; }

# ensure_file PATH CONTENT: write only when the content differs; return 0 when it changed.
ensure_file() {
    local path="$1" content="$2"
    if [[ -f "$path" ]] && [[ "$(cat "$path")" == "$content" ]]; then
        return 1
    fi
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$content" >"$path.ai-dualstack.tmp"
    mv "$path.ai-dualstack.tmp" "$path"
    log "wrote ${path#"$R"}"
    return 0
}

remove_file() {
    local path="$1"
    if [[ -e "$path" ]]; then
        rm -f "$path"
        log "removed ${path#"$R"}"
        return 0
    fi
    return 1
}

# --- vfio-pci ids: each environment owns a fragment; the modprobe file is their union ---------
write_vfio_union() {
    local ids=() fragment line
    for fragment in "$R"/etc/ai-dualstack/vfio.d/*.ids; do
        [[ -f "$fragment" ]] || continue
        while IFS= read -r line; do
            [[ -n "$line" ]] && ids+=("$line")
        done <"$fragment"
    done
    # "zz-" sorts last: modprobe lets the last options line for a module win.
    local conf="$R/etc/modprobe.d/zz-ai-dualstack-vfio.conf"
    if [[ ${#ids[@]} -eq 0 ]]; then
        if remove_file "$conf"; then initramfs_stale=1; fi
        return
    fi
    local union
    union="$(printf '%s\n' "${ids[@]}" | sort -u | paste -sd, -)"
    local content="# Managed by ai-dualstack: union of /etc/ai-dualstack/vfio.d/*.ids
options vfio-pci ids=${union} disable_vga=1"
    local driver
    for driver in $AIDS_SOFTDEPS snd_hda_intel; do
        content+=$'\n'"softdep ${driver} pre: vfio-pci"
    done
    if ensure_file "$conf" "$content"; then initramfs_stale=1; fi
}

fragment="$R/etc/ai-dualstack/vfio.d/${AIDS_ENV}.ids"
if [[ "$AIDS_MODE" == "remove" ]]; then
    if remove_file "$fragment"; then write_vfio_union; fi
    if [[ $initramfs_stale -eq 1 ]] && command -v update-initramfs >/dev/null; then
        update-initramfs -u -k all
    fi
    log "removed the ${AIDS_ENV} vfio fragment; host-wide settings stay for the other stack"
    exit 0
fi

if [[ -n "$AIDS_VFIO_IDS" ]]; then
    ensure_file "$fragment" "$(tr ',' '\n' <<<"$AIDS_VFIO_IDS")" || true
else
    remove_file "$fragment" || true
fi
write_vfio_union

# --- host-wide files: the same content from either stack ---------------------------------------
if ensure_file "$R/etc/modules-load.d/ai-dualstack-vfio.conf" "# Managed by ai-dualstack
vfio
vfio_iommu_type1
vfio_pci"; then initramfs_stale=1; fi

if [[ -n "$AIDS_NVIDIA_VERSION" ]]; then
    blacklist="# Managed by ai-dualstack: the host drives its containers' GPUs with nvidia only (after vfio-pci claims the VMs' cards)"
else
    blacklist="# Managed by ai-dualstack: the host never drives the passed-through GPUs"
fi
for driver in $AIDS_BLACKLIST; do
    blacklist+=$'\n'"blacklist ${driver}"
done
if ensure_file "$R/etc/modprobe.d/ai-dualstack-blacklist.conf" "$blacklist"; then initramfs_stale=1; fi

# --- the host's NVIDIA driver, for the cards that go to containers -----------------------------
# Debian's packages of exactly the configured version (a pin on both source packages), the open
# kernel modules built by DKMS against Proxmox's kernel headers. Where they are (Debian 13, read with
# apt-cache in December 2026): nvidia-open-kernel-dkms 550.163.01-2 in contrib (source
# nvidia-open-gpu-kernel-modules), nvidia-smi in non-free and firmware-nvidia-gsp in non-free-firmware
# (source nvidia-graphics-drivers), nvidia-modprobe and nvidia-persistenced in contrib (their own
# sources, unpinned). Proxmox's installer enables main, contrib and non-free-firmware; non-free is added here. The containers install
# the same version's userspace, so the version is held, never upgraded in passing. With no card for
# a container, whatever a former run installed stays (removing a driver is for a person).
nvidia_sources="$R/etc/apt/sources.list.d/ai-dualstack-nvidia.sources"
nvidia_pin="$R/etc/apt/preferences.d/ai-dualstack-nvidia"
if [[ -n "$AIDS_NVIDIA_VERSION" ]]; then
    ensure_file "$nvidia_sources" "# Managed by ai-dualstack: Debian's non-free archive, for the host's NVIDIA driver
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${AIDS_DEBIAN_SUITE} ${AIDS_DEBIAN_SUITE}-updates
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" || true
    ensure_file "$nvidia_pin" "# Managed by ai-dualstack: the host's NVIDIA driver stays at nodes.<node>.nvidiaDriver.version
Package: src:nvidia-graphics-drivers src:nvidia-open-gpu-kernel-modules
Pin: version ${AIDS_NVIDIA_VERSION}-*
Pin-Priority: 1001" || true
    installed="$(dpkg-query -W -f='${Version}' nvidia-open-kernel-dkms 2>/dev/null || true)"
    if [[ "$installed" != "${AIDS_NVIDIA_VERSION}-"* ]] && command -v apt-get >/dev/null; then
        log "installing the NVIDIA driver ${AIDS_NVIDIA_VERSION} (was: ${installed:-none})"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt-cache policy nvidia-open-kernel-dkms firmware-nvidia-gsp | grep -q "Candidate: ${AIDS_NVIDIA_VERSION}-" ||
            fail "Debian ${AIDS_DEBIAN_SUITE} offers no nvidia-open-kernel-dkms ${AIDS_NVIDIA_VERSION} (\`apt-cache policy nvidia-open-kernel-dkms\`): it is in contrib, its firmware in non-free-firmware; enable both in the node's Debian sources, or set nodes.<node>.nvidiaDriver.version to the version offered"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            proxmox-default-headers nvidia-open-kernel-dkms nvidia-smi nvidia-modprobe nvidia-persistenced
        installed="$(dpkg-query -W -f='${Version}' nvidia-open-kernel-dkms 2>/dev/null || true)"
        [[ "$installed" == "${AIDS_NVIDIA_VERSION}-"* ]] ||
            fail "the package manager installed nvidia-open-kernel-dkms ${installed:-nothing}, not ${AIDS_NVIDIA_VERSION} (nodes.<node>.nvidiaDriver.version); \`apt-cache policy nvidia-open-kernel-dkms\` lists the versions Debian ${AIDS_DEBIAN_SUITE} offers"
        # The module is built now and loads at the reboot, after vfio-pci (the softdeps above).
        initramfs_stale=1
    fi
fi

if [[ -n "$AIDS_ZFS_ARC_MAX" ]]; then
    # After the installer's /etc/modprobe.d/zfs.conf, so that this cap is the one that holds.
    if ensure_file "$R/etc/modprobe.d/zz-ai-dualstack-zfs.conf" "options zfs zfs_arc_max=${AIDS_ZFS_ARC_MAX}"; then
        initramfs_stale=1
    fi
    arc_param="$R/sys/module/zfs/parameters/zfs_arc_max"
    if [[ -w "$arc_param" ]] && [[ "$(cat "$arc_param")" != "$AIDS_ZFS_ARC_MAX" ]]; then
        echo "$AIDS_ZFS_ARC_MAX" >"$arc_param"
        log "set the ZFS ARC cap to ${AIDS_ZFS_ARC_MAX} bytes"
    fi
fi

# Kernel arguments: a GRUB drop-in, and /etc/kernel/cmdline where proxmox-boot-tool uses it.
if [[ -d "$R/etc/default" ]]; then
    if ensure_file "$R/etc/default/grub.d/ai-dualstack.cfg" "# Managed by ai-dualstack
GRUB_CMDLINE_LINUX_DEFAULT=\"\${GRUB_CMDLINE_LINUX_DEFAULT} ${AIDS_KERNEL_ARGS}\""; then
        bootloader_stale=1
    fi
fi
cmdline_file="$R/etc/kernel/cmdline"
if [[ -f "$cmdline_file" ]]; then
    # Every argument this project manages is dropped first, so one no longer wanted goes too.
    managed=" intel_iommu amd_iommu iommu default_hugepagesz hugepagesz hugepages "
    merged=()
    read -r -a current <"$cmdline_file" || true
    read -r -a wanted <<<"$AIDS_KERNEL_ARGS"
    for token in "${current[@]}"; do
        [[ "$managed" == *" ${token%%=*} "* ]] || merged+=("$token")
    done
    merged+=("${wanted[@]}")
    if ensure_file "$cmdline_file" "${merged[*]}"; then bootloader_stale=1; fi
fi

if [[ $initramfs_stale -eq 1 ]] && command -v update-initramfs >/dev/null; then
    update-initramfs -u -k all
fi
if [[ $bootloader_stale -eq 1 ]]; then
    if [[ -f "$R/etc/kernel/proxmox-boot-uuids" ]] && command -v proxmox-boot-tool >/dev/null; then
        proxmox-boot-tool refresh
    elif command -v update-grub >/dev/null; then
        update-grub
    fi
fi

# --- Proxmox settings both stacks need: only ever added, never taken away ----------------------
if command -v pvesh >/dev/null; then
    storage_json="$(pvesh get "/storage/${AIDS_DATASTORE}" --output-format json)" ||
        fail "cannot read datastore ${AIDS_DATASTORE} (proxmox.filesDatastore); name a directory storage such as local"
    content="$(sed -n 's/.*"content":"\([^"]*\)".*/\1/p' <<<"$storage_json")"
    [[ -n "$content" ]] || fail "datastore ${AIDS_DATASTORE} not found (proxmox.filesDatastore); name a directory storage such as local"
    wanted_content="$content"
    for kind in snippets import vztmpl; do
        [[ ",${wanted_content}," == *",${kind},"* ]] || wanted_content+=",${kind}"
    done
    if [[ "$wanted_content" != "$content" ]]; then
        pvesm set "$AIDS_DATASTORE" --content "$wanted_content"
        log "datastore ${AIDS_DATASTORE} now holds ${wanted_content}"
    fi
    if [[ "$AIDS_DC_FIREWALL" == "1" ]]; then
        # With the firewall on, only the node's own LAN keeps GUI and SSH access: add the other
        # admin networks (a VPN) to the management IPSet before switching it on.
        ipsets="$(pvesh get /cluster/firewall/ipset --output-format json)"
        if [[ "$ipsets" != *'"name":"management"'* ]]; then
            pvesh create /cluster/firewall/ipset --name management --comment "ai-dualstack: GUI and SSH access"
        fi
        members="$(pvesh get /cluster/firewall/ipset/management --output-format json)"
        for cidr in $AIDS_MGMT_SOURCES; do
            if [[ "$members" != *"\"cidr\":\"${cidr}\""* ]]; then
                pvesh create /cluster/firewall/ipset/management --cidr "$cidr" --comment "ai-dualstack"
                log "management access kept for ${cidr}"
            fi
        done
        if ! pvesh get /cluster/firewall/options --output-format json | grep -q '"enable":1'; then
            pvesh set /cluster/firewall/options --enable 1
            log "turned the datacenter firewall on (guest firewalls act only with it on)"
        fi
    fi
fi

log "host settings are in place; host-check.sh says whether a reboot is needed"
