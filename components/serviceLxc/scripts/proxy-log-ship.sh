#!/usr/bin/env bash
# Ships the public proxy's access log to CrowdSec, on the Proxmox node: every few seconds it reads
# the proxy container's new log lines through the VM's guest agent (`qm guest exec`, no network path
# from the public VM) and sends them as syslog over UDP to the security container.
# Usage: proxy-log-ship.sh VMID CONTAINER DEST PORT [STATE_FILE]   (-h: this help)
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,5p' "$0" | sed 's/^# //'
    exit 0
fi
if [[ $# -lt 4 ]]; then
    sed -n '5p' "$0" | sed 's/^# //' >&2
    exit 2
fi
vmid="$1" container="$2" dest="$3" port="$4" state="${5:-/var/lib/ai-dualstack/proxy-log-ship.since}"
mkdir -p "$(dirname "$state")"
since="$(cat "$state" 2>/dev/null || date -u -d '-1 min' +%s)"
while true; do
    now="$(date -u +%s)"
    # --until makes windows that neither overlap nor leave gaps; the agent's JSON carries stdout as out-data.
    if out="$(qm guest exec "$vmid" --timeout 30 -- docker logs --since "$since" --until "$now" "$container" 2>/dev/null)"; then
        printf '%s' "$out" |
            perl -MJSON::PP -0777 -ne 'my $j = decode_json($_); print $j->{"out-data"} // ""' |
            logger --rfc3164 -n "$dest" -P "$port" -d -t traefik
        since="$now"
        printf '%s\n' "$since" >"$state"
    fi
    sleep 10
done
