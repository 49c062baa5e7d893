#!/usr/bin/env bash
# Builds (once per machine) the Debian root file system a booted test system starts from, and prints
# its directory: debootstrap's minbase of SUITE (trixie: Debian 13, the base of Proxmox VE 9 and of its
# default container template; bookworm: Debian 12, for Proxmox VE 8.4) with systemd as init, D-Bus,
# OpenSSH's server and iproute2. It is cached under ~/.cache/ai-dualstack/rootfs-<suite>-<hash of this
# script> and never modified afterwards: each booted system runs on an overlay of it (testing/booted/).
# Needs root, debootstrap and Debian's archive. About two minutes per suite cold.
# Usage: testing/booted/rootfs.sh SUITE   (SUITE: trixie | bookworm)
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" || $# -ne 1 ]]; then
    sed -n '2,8p' "$0" | sed 's/^# //'
    [[ $# -eq 1 ]] && exit 0 || exit 2
fi
suite="$1"
case "$suite" in
trixie | bookworm) ;;
*)
    echo "rootfs: unknown suite '$suite' (trixie or bookworm)" >&2
    exit 2
    ;;
esac
mirror="${AIDS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ai-dualstack"
dir="$cache/rootfs-$suite-$(sha256sum "$0" | cut -c1-12)"
[[ -d "$dir" ]] && {
    echo "$dir"
    exit 0
}
mkdir -p "$cache"
# One build per suite at a time: parallel test workers wait for the first one's result.
exec 9>"$cache/rootfs-$suite.lock"
flock 9
[[ -d "$dir" ]] && {
    echo "$dir"
    exit 0
}
for tool in debootstrap systemd-nspawn; do
    command -v "$tool" >/dev/null || {
        echo "rootfs: $tool is missing (apt-get install debootstrap systemd-container)" >&2
        exit 1
    }
done
work="$(mktemp -d "$cache/rootfs-$suite.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "rootfs: debootstrap $suite from $mirror (about two minutes)" >&2
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,openssh-server,iproute2,ca-certificates \
    "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    {
        tail -20 "$work/debootstrap.log" >&2
        exit 1
    }
root="$work/root"
# The suite's updates and security archives, like a Proxmox container template has them.
security="${mirror%/debian}/debian-security"
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
SOURCES
# Each system gets its own host keys and machine id when it boots (testing/booted/system.ts).
rm -f "$root"/etc/ssh/ssh_host_* "$root/var/lib/dbus/machine-id"
: >"$root/etc/machine-id"
# No console login prompt on the booted system's output.
rm -f "$root/etc/systemd/system/getty.target.wants/"* 2>/dev/null || true
ln -sf /dev/null "$root/etc/systemd/system/console-getty.service"
# Test-only speed-ups that change nothing the scripts decide: dpkg skips its fsyncs (a throwaway system),
# and the packages the set-ups install are downloaded (not installed) into apt's cache, so a test's apt-get
# installs them for real without fetching them again.
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/ai-dualstack-test-unsafe-io"
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" apt-get update -qq
# The runner's libraries are named per suite (libicu72/libssl3 on bookworm, libicu76/libssl3t64 on trixie): the other
# suite's names are skipped. The node's stand-in adds initramfs-tools, a kernel and perl (tests/systems/pveNode.ts).
for pkg in postgresql redis-server prometheus prometheus-alertmanager prometheus-node-exporter crowdsec \
    crowdsec-firewall-bouncer nftables sqlite3 curl gpg python3 python3-venv wireguard-tools wireguard-go \
    iputils-ping docker.io git tar libkrb5-3 zlib1g libicu72 libicu76 libssl3 libssl3t64 \
    kmod perl initramfs-tools zstd linux-image-cloud-amd64; do
    chroot "$root" apt-get install -y -qq --download-only --no-install-recommends "$pkg" >/dev/null 2>&1 ||
        echo "rootfs: $pkg is not in $suite (not pre-downloaded)" >&2
done
mv "$root" "$dir"
echo "$dir"
