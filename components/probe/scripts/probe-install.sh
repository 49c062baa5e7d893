# Installs the throughput probe in a GPU VM, idempotently (body; components/probe/spec.ts renders the
# header): the program, its spec and the systemd units are written only when they differ, the timer
# is enabled, and when anything changed the probe runs once now, in the background, so fresh
# figures appear without waiting a whole interval. Run as root (sudo) over SSH.
# Inputs (rendered above): AIDS_UNIT, AIDS_PROGRAM_PATH, AIDS_XID_PATH, AIDS_SPEC_PATH, AIDS_TEXTFILE_DIR,
# and the files base64-encoded: AIDS_PROGRAM_B64, AIDS_XID_B64 (the GPU's Xid counter, run before each
# probe), AIDS_SPEC_B64, AIDS_SERVICE_B64, AIDS_TIMER_B64.
set -euo pipefail
R="${AIDS_ROOT:-}"
changed=0

# put FILE MODE BASE64: writes FILE (through a temporary file and a rename) when its content differs.
put() {
    local file="$R$1" mode="$2" tmp
    tmp="$(mktemp "${file}.XXXXXX")"
    printf %s "$3" | base64 -d >"$tmp"
    if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then
        rm -f "$tmp"
        return 0
    fi
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$file"
    echo "ai-dualstack: wrote $1"
    changed=1
}

command -v python3 >/dev/null || { echo "ai-dualstack: the probe needs python3 in the VM" >&2; exit 1; }
install -d -m 0755 "$R$(dirname "$AIDS_PROGRAM_PATH")" "$R$(dirname "$AIDS_XID_PATH")" "$R$(dirname "$AIDS_SPEC_PATH")" "$R$AIDS_TEXTFILE_DIR" \
    "$R/etc/systemd/system"
put "$AIDS_PROGRAM_PATH" 0755 "$AIDS_PROGRAM_B64"
put "$AIDS_XID_PATH" 0755 "$AIDS_XID_B64"
put "$AIDS_SPEC_PATH" 0644 "$AIDS_SPEC_B64"
put "/etc/systemd/system/${AIDS_UNIT}.service" 0644 "$AIDS_SERVICE_B64"
put "/etc/systemd/system/${AIDS_UNIT}.timer" 0644 "$AIDS_TIMER_B64"

if [[ "$changed" -eq 1 ]]; then
    systemctl daemon-reload
fi
systemctl enable --now "${AIDS_UNIT}.timer"
if [[ "$changed" -eq 1 ]]; then
    systemctl start --no-block "${AIDS_UNIT}.service"
    echo "ai-dualstack: throughput probe installed; first run started (journalctl -u ${AIDS_UNIT})"
else
    echo "ai-dualstack: throughput probe up to date"
fi
