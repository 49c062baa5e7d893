#!/usr/bin/env bash
# Counts the NVIDIA driver's Xid errors in this boot's kernel log ("NVRM: Xid (PCI:...): 79, ...") per
# Xid code and writes them as a node-exporter textfile counter, aidualstack_gpu_xid_errors_total{xid}.
# Runs in each GPU VM from a systemd timer. Usage: xid-textfile.sh [--help]
# Environment: AIDS_TEXTFILE_DIR (default /var/lib/prometheus/node-exporter).
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,5p' "$0" | sed 's/^# //'
    exit 0
fi
dir="${AIDS_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}"
out="$dir/aidualstack_xid.prom"
tmp="$(mktemp "$dir/.aidualstack_xid.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
{
    echo "# HELP aidualstack_gpu_xid_errors_total NVIDIA Xid errors in the kernel log since boot, by Xid code."
    echo "# TYPE aidualstack_gpu_xid_errors_total counter"
    # Every code seen this boot; none yet reads as code "0" with count 0, so the series exists.
    journalctl -k -b --no-pager -o cat 2>/dev/null |
        sed -n 's/.*NVRM: Xid ([^)]*): *\([0-9][0-9]*\).*/\1/p' |
        sort -n | uniq -c |
        awk 'BEGIN { n = 0 } { printf "aidualstack_gpu_xid_errors_total{xid=\"%s\"} %d\n", $2, $1; n++ } END { if (n == 0) print "aidualstack_gpu_xid_errors_total{xid=\"0\"} 0" }'
} >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
