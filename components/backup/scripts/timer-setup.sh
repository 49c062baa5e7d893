# Installs one backup job in a guest, idempotently: its script, its settings (mode 600, they may
# hold a secret), and a systemd service and timer (Persistent: a missed night runs at boot).
# Rendered with AIDS_JOB (unit name), AIDS_DESCRIPTION, AIDS_SCHEDULE (OnCalendar), AIDS_SCRIPT_B64
# (the job's script), AIDS_ENV_B64 (its EnvironmentFile), AIDS_PACKAGES (Debian packages it needs)
# and optionally AIDS_EXTRA_NAME / AIDS_EXTRA_B64 (a companion tool installed beside it).
set -euo pipefail

lib=/usr/local/lib/ai-dualstack
etc=/etc/ai-dualstack
install -d -m 755 "$lib"
install -d -m 700 "$etc"

if [[ -n ${AIDS_PACKAGES:-} ]]; then
    missing=()
    for pkg in $AIDS_PACKAGES; do
        dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

changed=0
# put FILE MODE B64: writes the file only when its content differs.
put() {
    local file=$1 mode=$2 tmp
    tmp=$(mktemp)
    base64 -d <<<"$3" >"$tmp"
    if ! cmp -s "$tmp" "$file" 2>/dev/null; then
        install -m "$mode" "$tmp" "$file"
        changed=1
    fi
    rm -f "$tmp"
}

unit_b64() {
    printf '%s\n' "$@" | base64 -w0
}

put "$lib/$AIDS_JOB.sh" 755 "$AIDS_SCRIPT_B64"
# A companion tool, such as pg-restore.sh beside the pg_dump job.
if [[ -n ${AIDS_EXTRA_NAME:-} ]]; then
    put "$lib/$AIDS_EXTRA_NAME" 755 "$AIDS_EXTRA_B64"
fi
put "$etc/$AIDS_JOB.env" 600 "$AIDS_ENV_B64"
put "/etc/systemd/system/$AIDS_JOB.service" 644 "$(unit_b64 \
    "[Unit]" "Description=$AIDS_DESCRIPTION (ai-dualstack)" "After=network-online.target" "" \
    "[Service]" "Type=oneshot" "EnvironmentFile=$etc/$AIDS_JOB.env" "ExecStart=$lib/$AIDS_JOB.sh" \
    "Nice=10" "IOSchedulingClass=idle")"
put "/etc/systemd/system/$AIDS_JOB.timer" 644 "$(unit_b64 \
    "[Unit]" "Description=$AIDS_DESCRIPTION, on schedule (ai-dualstack)" "" \
    "[Timer]" "OnCalendar=$AIDS_SCHEDULE" "Persistent=true" "RandomizedDelaySec=120" "" \
    "[Install]" "WantedBy=timers.target")"

if [[ $changed == 1 ]]; then
    systemctl daemon-reload
fi
systemctl enable --now "$AIDS_JOB.timer" >/dev/null
echo "$AIDS_JOB: $(systemctl show -p NextElapseUSecRealtime --value "$AIDS_JOB.timer" 2>/dev/null || echo scheduled)"
