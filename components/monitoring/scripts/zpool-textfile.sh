#!/usr/bin/env bash
# Writes the ZFS pools' size, allocation, device errors (read + write + checksum) and last scrub
# (errors, time) as node-exporter textfile metrics, for what node-exporter's ZFS collector lacks.
# Run by aidualstack-zpool-textfile.timer on the Proxmox host. Usage: zpool-textfile.sh [--help]
# Environment: AIDS_TEXTFILE_DIR (default /var/lib/prometheus/node-exporter).
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,5p' "$0" | sed 's/^# //'
    exit 0
fi
dir="${AIDS_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}"
out="$dir/aidualstack_zfs.prom"
tmp="$(mktemp "$dir/.aidualstack_zfs.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

size="" alloc="" device="" scrub="" scrubbed=""
while IFS=$'\t' read -r pool bytes used; do
    [[ -n "$pool" ]] || continue
    size+="aidualstack_zfs_pool_size_bytes{pool=\"$pool\"} $bytes"$'\n'
    alloc+="aidualstack_zfs_pool_allocated_bytes{pool=\"$pool\"} $used"$'\n'
    status="$(zpool status -p "$pool")"
    # The pool's own line in the config table: NAME STATE READ WRITE CKSUM.
    errors="$(awk -v p="$pool" '$1 == p && NF >= 5 { print $3 + $4 + $5; exit }' <<<"$status")"
    device+="aidualstack_zfs_pool_device_errors{pool=\"$pool\"} ${errors:-0}"$'\n'
    scan="$(sed -n 's/^ *scan: *//p' <<<"$status")"
    if [[ "$scan" =~ scrub\ repaired\ .*\ with\ ([0-9]+)\ errors\ on\ (.*)$ ]]; then
        scrub+="aidualstack_zfs_pool_scrub_errors{pool=\"$pool\"} ${BASH_REMATCH[1]}"$'\n'
        scrubbed+="aidualstack_zfs_pool_last_scrub_timestamp_seconds{pool=\"$pool\"} $(date -d "${BASH_REMATCH[2]}" +%s)"$'\n'
    else
        scrub+="aidualstack_zfs_pool_scrub_errors{pool=\"$pool\"} 0"$'\n'
    fi
done < <(zpool list -Hp -o name,size,allocated)

{
    echo "# HELP aidualstack_zfs_pool_size_bytes Size of the ZFS pool."
    echo "# TYPE aidualstack_zfs_pool_size_bytes gauge"
    printf '%s' "$size"
    echo "# HELP aidualstack_zfs_pool_allocated_bytes Space allocated in the ZFS pool."
    echo "# TYPE aidualstack_zfs_pool_allocated_bytes gauge"
    printf '%s' "$alloc"
    echo "# HELP aidualstack_zfs_pool_device_errors Read, write and checksum errors of the pool, as zpool status counts them."
    echo "# TYPE aidualstack_zfs_pool_device_errors gauge"
    printf '%s' "$device"
    echo "# HELP aidualstack_zfs_pool_scrub_errors Errors the last scrub found (0 before the first scrub)."
    echo "# TYPE aidualstack_zfs_pool_scrub_errors gauge"
    printf '%s' "$scrub"
    if [[ -n "$scrubbed" ]]; then
        echo "# HELP aidualstack_zfs_pool_last_scrub_timestamp_seconds When the last scrub finished."
        echo "# TYPE aidualstack_zfs_pool_last_scrub_timestamp_seconds gauge"
        printf '%s' "$scrubbed"
    fi
} >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
