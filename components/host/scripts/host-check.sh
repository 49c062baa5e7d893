# Host check for one ai-dualstack environment on one Proxmox node (body; components/host/bootstrap.ts
# renders the header). Read-only: the program runs it over SSH (components/host/check.ts) on every
# preview and up, before it registers anything, so a refusal changes nothing. It stops the run on a
# fact that a reboot cannot fix (wrong card or board, an IOMMU group other than configured or
# shared, IOMMU off in the BIOS, Proxmox too old, a firewall that would lock this client out, a
# mirror over disks another pool uses, a registered pool that does not exist), and otherwise ends
# with one verdict line: reboot-required=no, or =yes with the reasons. It reports the node's
# MemTotal, which components/host/check.ts judges (less RAM than the guests need is refused there).
#
# Header variables:
#   AIDS_ENV           private | public
#   AIDS_KERNEL_ARGS   kernel arguments that must be active
#   AIDS_GPU_CHECKS    this environment's "address=vendor:device@group" entries, space-separated
#   AIDS_GPU_IDENTITIES every function of every card, "address=vendor:device/subvendor:subdevice@group"
#                      (both environments: the bootstrap writes all their ids for vfio-pci, and
#                      Proxmox checks each mapping at VM start, so each is checked before anything
#                      is written)
#   AIDS_HOST_DRIVER_CARDS this environment's cards for containers, "address=name@minBranch": they
#                      must be on the host's nvidia driver, of a branch that drives them
#   AIDS_NVIDIA_VERSION the host driver version the config names (empty: no card for a container)
#   AIDS_NVIDIA_CARDS  every card on the node for a container, "name@minBranch" (host-wide)
#   AIDS_ARC_MAX_MIB   the ZFS ARC maximum the config's memory budget counts, in MiB
#   AIDS_ARC_SET       1 when the bootstrap writes that cap (memory.zfsArcMaxGiB), else 0
#   AIDS_MIN_PVE       oldest Proxmox VE release this project supports (major.minor)
#   AIDS_PVE_MAJOR     the major version the config says (proxmox.majorVersion): the API roles are
#                      built for it, so a node of another major is refused
#   AIDS_DC_FIREWALL   1 when the bootstrap will turn the datacenter firewall on
#   AIDS_MGMT_SOURCES  networks the bootstrap adds to the management IPSet first
#   AIDS_ZFS_EXISTING  pools or datasets this environment's mirrors register without creating them
#   AIDS_ZFS_NEW       "pool=disk" for each disk of a mirror this environment creates
# AIDS_ROOT (header or environment; tests only) prefixes every path so the script runs in a sandbox.

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
    # The roles name privileges of one major version: PVE 9 refuses VM.Monitor as an invalid
    # privilege, PVE 8 knows no VM.GuestAgent.* (pve-access-control src/PVE/AccessControl.pm).
    [[ "${release%%.*}" == "$AIDS_PVE_MAJOR" ]] ||
        fail "the node runs Proxmox VE ${release}, but proxmox.majorVersion says ${AIDS_PVE_MAJOR}; set proxmox.majorVersion: ${release%%.*} (the API roles are built for it)"
    log "Proxmox VE ${release} (proxmox.majorVersion ${AIDS_PVE_MAJOR})"
fi

# A half-made network change from the GUI would be applied by the next bridge reload.
if [[ -f "$R/etc/network/interfaces.new" ]]; then
    fail "/etc/network/interfaces.new holds pending network changes; apply or revert them in the Proxmox UI first, or the bridge reload would apply them too"
fi

# The node's real MemTotal, reported for components/host/check.ts, which walks this environment's
# guests against what it leaves (config/memory.ts, the config rules' own walk) and refuses, naming
# the first guest that does not fit. The 1 GiB hugepages reserved at boot stay inside MemTotal (the
# kernel gives them back to totalram_pages: mm/hugetlb.c, gather_bootmem_prealloc), so the figure
# holds before and after the bootstrap's reboot.
if [[ -r "$R/proc/meminfo" ]]; then
    kib="$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' "$R/proc/meminfo")"
    [[ -z "$kib" ]] || log "memtotal-kib=${kib}"
fi

# Without memory.zfsArcMaxGiB the budget counts the cap Proxmox VE 8.1+ installs (10% of RAM, at
# most 16 GiB); a node installed earlier or without it lets the ARC grow to half of RAM (OpenZFS
# 2.2) or to all but 1 GiB (2.3, openzfs/zfs#15437). c_max is the maximum in force.
arcstats="$R/proc/spl/kstat/zfs/arcstats"
if [[ "$AIDS_ARC_SET" != 1 && -r "$arcstats" ]]; then
    arc_bytes="$(awk '$1 == "c_max" { print $3 }' "$arcstats")"
    if [[ -n "$arc_bytes" ]] && ((arc_bytes / 1048576 > AIDS_ARC_MAX_MIB)); then
        fail "the ZFS ARC may grow to $((arc_bytes / 1073741824)) GiB (c_max in /proc/spl/kstat/zfs/arcstats), more than the $((AIDS_ARC_MAX_MIB / 1024)) GiB the memory budget counts, and would take the guests' RAM; set nodes.<node>.memory.zfsArcMaxGiB (the bootstrap writes the cap)"
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

# Every card's identity first: a NIC's or an NVMe's id must never reach the vfio-pci list, and a
# mapping that differs from sysfs in id, subsystem id or IOMMU group makes Proxmox refuse to start
# the VM (pve-guest-common src/PVE/Mapping/PCI.pm, assert_valid, reading sysfs through
# PVE::SysFSTools::pci_device_info). Each of the five sysfs keys is compared on its own.
sysfs_matches() { # sysfs_matches ADDRESS KEY EXPECTED CONFIG-FIELD
    local file="$R/sys/bus/pci/devices/$1/$2" actual
    if [[ "$2" == iommu_group ]]; then
        actual="$(basename "$(readlink "$file" 2>/dev/null || echo none)")"
    else
        actual="$(cat "$file" 2>/dev/null || echo none)"
        actual="${actual#0x}"
    fi
    [[ "$actual" == "$3" ]] ||
        fail "$1: ${2} is ${actual} on the host, but the config says ${3} (${4}); did the cards move slots? Fix pciAddress or ${4} (\`lspci -Dnnv\` shows both; nothing was written)"
}
for identity in $AIDS_GPU_IDENTITIES; do
    address="${identity%%=*}"
    rest="${identity#*=}"
    ids="${rest%@*}"
    expected_id="${ids%/*}"
    expected_sub="${ids#*/}"
    [[ -d "$R/sys/bus/pci/devices/${address}" ]] || fail "no PCI device at ${address}; check pciAddress in Pulumi.yaml against \`lspci -D\`"
    sysfs_matches "$address" vendor "${expected_id%:*}" vendorDeviceId
    sysfs_matches "$address" device "${expected_id#*:}" vendorDeviceId
    sysfs_matches "$address" subsystem_vendor "${expected_sub%:*}" subsystemId
    sysfs_matches "$address" subsystem_device "${expected_sub#*:}" subsystemId
    # Groups exist only once the IOMMU is on; before the reboot the verdict says so instead.
    if [[ $iommu_active -eq 1 ]]; then sysfs_matches "$address" iommu_group "${rest##*@}" iommuGroup; fi
done

# The datacenter firewall would cut this very session unless its client is a management source.
ip_to_int() {
    local IFS=.
    read -r a b c d <<<"$1"
    echo $(((a << 24) + (b << 16) + (c << 8) + d))
}
in_cidr() { # in_cidr IP CIDR
    local net="${2%/*}" bits="${2#*/}"
    [[ "$2" == */* ]] || bits=32
    local mask=$(((0xffffffff << (32 - bits)) & 0xffffffff))
    (($(($(ip_to_int "$1") & mask)) == $(($(ip_to_int "$net") & mask))))
}
firewall_on() { pvesh get /cluster/firewall/options --output-format json 2>/dev/null | grep -q '"enable":1'; }
client="${SSH_CLIENT:-}"
client="${client%% *}"
if [[ "$AIDS_DC_FIREWALL" == "1" && "$client" =~ ^[0-9.]+$ ]] && command -v pvesh >/dev/null && ! firewall_on; then
    covered=()
    for cidr in $AIDS_MGMT_SOURCES; do covered+=("$cidr"); done
    members="$(pvesh get /cluster/firewall/ipset/management --output-format json 2>/dev/null || true)"
    while read -r cidr; do [[ -n "$cidr" ]] && covered+=("$cidr"); done < <(grep -o '"cidr":"[0-9./]*"' <<<"$members" | cut -d'"' -f4)
    localnet=""
    if command -v pve-firewall >/dev/null; then
        localnet="$(pve-firewall localnet 2>/dev/null | sed -n 's/.*local_network: *\([0-9./]*\).*/\1/p' | head -n 1 || true)"
    fi
    [[ -n "$localnet" ]] && covered+=("$localnet")
    ok=0
    for cidr in "${covered[@]}"; do in_cidr "$client" "$cidr" && ok=1; done
    [[ $ok -eq 1 ]] || fail "turning the datacenter firewall on would lock out this machine (${client}): it is in neither the node's local network (${localnet:-unknown}) nor the management IPSet; add its network to proxmox.managementSources (or set proxmox.enableDatacenterFirewall: false)"
fi

# Storage: a registered pool or dataset must exist; a new mirror's disks must belong to no other
# pool (above all rpool, where Proxmox itself lives).
if [[ -n "${AIDS_ZFS_EXISTING:-}" ]] && command -v zfs >/dev/null; then
    for dataset in $AIDS_ZFS_EXISTING; do
        zfs list -H -o name "$dataset" >/dev/null 2>&1 ||
            fail "ZFS pool or dataset ${dataset} does not exist, and a mirror without disks only registers it; create it (\`zfs create ${dataset}\` for a dataset on an existing pool) or list the mirror's disks"
    done
fi
if [[ -n "${AIDS_ZFS_NEW:-}" ]] && command -v zpool >/dev/null; then
    pool_members="$(zpool status -LP 2>/dev/null | awk '$1 == "pool:" { pool = $2 } $1 ~ /^\/dev\// { print pool, $1 }' || true)"
    for entry in $AIDS_ZFS_NEW; do
        pool="${entry%%=*}"
        disk="${entry#*=}"
        real="$(readlink -f "$R$disk" 2>/dev/null || echo "$R$disk")"
        real="${real#"$R"}"
        while read -r other dev; do
            [[ -n "$dev" && "$other" != "$pool" ]] || continue
            if [[ "$dev" == "$real" || "$dev" =~ ^${real}p?[0-9]+$ ]]; then
                fail "${disk} (${real}) is part of ZFS pool ${other}; the mirror for pool ${pool} would wipe it. Take other disks, or leave disks out to register an existing pool or dataset"
            fi
        done <<<"$pool_members"
    done
fi

own=" "
for check in $AIDS_GPU_CHECKS; do own+="${check%%=*} "; done

for check in $AIDS_GPU_CHECKS; do
    address="${check%%=*}"
    dev="$R/sys/bus/pci/devices/${address}"
    # Ids and group were compared above, with every card's.
    if [[ $iommu_active -eq 1 ]] && [[ -e "$dev/iommu_group" ]]; then
        group="$(basename "$(readlink "$dev/iommu_group")")"
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

# The cards the host's NVIDIA driver drives, for containers: bound to nvidia once the reboot loaded
# it after vfio-pci, by the configured version. A driver that does not know a card is refused when
# no reboot would change it (it is the configured one and it runs); otherwise the reboot is the fix.
if [[ -n "$AIDS_NVIDIA_VERSION" ]]; then
    loaded="$(sed -n 's/^NVRM version:.* \([0-9][0-9.]*\)  .*$/\1/p' "$R/proc/driver/nvidia/version" 2>/dev/null | head -n 1 || true)"
    for entry in $AIDS_NVIDIA_CARDS; do
        name="${entry%@*}"
        min="${entry#*@}"
        if [[ -n "$loaded" && "$loaded" == "$AIDS_NVIDIA_VERSION" ]] && ((${loaded%%.*} < min)); then
            fail "the host's NVIDIA driver ${loaded} (branch ${loaded%%.*}) does not drive ${name} (branch ${min} or newer); install a newer driver and set nodes.<node>.nvidiaDriver.version to it, or give the card to a VM (guest: vm)"
        fi
    done
    if [[ -n "$AIDS_HOST_DRIVER_CARDS" && "$loaded" != "$AIDS_NVIDIA_VERSION" ]]; then
        reasons+=("the host's NVIDIA driver is ${loaded:-not loaded}, the config says ${AIDS_NVIDIA_VERSION}")
    fi
fi
for entry in $AIDS_HOST_DRIVER_CARDS; do
    address="${entry%%=*}"
    name="${entry#*=}"
    name="${name%@*}"
    dev="$R/sys/bus/pci/devices/${address}"
    driver="none"
    if [[ -e "$dev/driver" ]]; then driver="$(basename "$(readlink "$dev/driver")")"; fi
    [[ "$driver" == "nvidia" ]] || reasons+=("${address} (${name}) is bound to ${driver}, not nvidia (the host's driver, for its container)")
done

if [[ ${#reasons[@]} -gt 0 ]]; then
    printf -v joined '%s; ' "${reasons[@]}"
    log "reboot-required=yes (${joined%; })"
else
    log "reboot-required=no"
fi
