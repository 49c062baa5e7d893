# Removes the throughput probe from a GPU VM, idempotently (body; components/probe/spec.ts renders
# the header): the timer stopped and disabled, the units, program, spec and metrics file deleted, so
# no stale figure stays behind for node-exporter. Run as root (sudo) over SSH.
# Inputs (rendered above): AIDS_UNIT, AIDS_PROGRAM_PATH, AIDS_SPEC_PATH, AIDS_TEXTFILE, AIDS_XID_PATH,
# AIDS_XID_TEXTFILE.
set -euo pipefail
R="${AIDS_ROOT:-}"

systemctl disable --now "${AIDS_UNIT}.timer" 2>/dev/null || true
systemctl stop "${AIDS_UNIT}.service" 2>/dev/null || true
rm -f "$R/etc/systemd/system/${AIDS_UNIT}.service" "$R/etc/systemd/system/${AIDS_UNIT}.timer" \
    "$R$AIDS_PROGRAM_PATH" "$R$AIDS_SPEC_PATH" "$R$AIDS_TEXTFILE" "$R$AIDS_XID_PATH" "$R$AIDS_XID_TEXTFILE"
systemctl daemon-reload
echo "ai-dualstack: throughput probe removed"
