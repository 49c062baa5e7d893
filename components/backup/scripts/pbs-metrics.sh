# Textfile metrics of the guest backups (kind pbs), read from the datastores: per backup group
# (label backup="<datastore>/<type>/<id>"), the newest snapshot's time is the last run; it counts as
# a success when it is younger than AIDS_MAX_AGE_HOURS and its verification has not failed (a failed
# vzdump leaves no snapshot, so a missed night shows as an old one).
# Env: AIDS_DATASTORES ("env:/path ..."), AIDS_MAX_AGE_HOURS, AIDS_TEXTFILE_DIR.
set -euo pipefail

if [[ ${1:-} == --help ]]; then
    echo "usage: pbs-metrics.sh   (settings from the environment: AIDS_DATASTORES, AIDS_MAX_AGE_HOURS)"
    exit 0
fi

max_age=$((${AIDS_MAX_AGE_HOURS:-26} * 3600))
now=$(date +%s)
for entry in ${AIDS_DATASTORES:?AIDS_DATASTORES is not set}; do
    store=${entry%%:*}
    # One line per group: "<type>/<id> <newest time> <newest verified-ok time or 0> <newest state>".
    proxmox-backup-debug api get "/admin/datastore/$store/snapshots" --ns "$store" --output-format json |
        python3 -c '
import json, sys
groups = {}
for s in json.load(sys.stdin):
    key = "%s/%s" % (s["backup-type"], s["backup-id"])
    state = (s.get("verification") or {}).get("state", "none")
    g = groups.setdefault(key, {"newest": 0, "ok": 0, "state": "none"})
    if s["backup-time"] > g["newest"]:
        g["newest"], g["state"] = s["backup-time"], state
    if state != "failed":
        g["ok"] = max(g["ok"], s["backup-time"])
for key, g in sorted(groups.items()):
    print(key, g["newest"], g["ok"], g["state"])
' | while read -r group newest ok state; do
        success=0
        if [[ $state != failed ]] && ((now - newest <= max_age)); then success=1; fi
        aids_metrics "$store/$group" pbs "$success" "$newest" "$ok"
    done
done
