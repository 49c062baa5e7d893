# Installs (AIDS_MODE=apply) or removes (remove) one environment's preview key on the node: the rendered
# read-only host check as a root-owned script, and one line in root's authorized_keys that lets the key run
# that script and nothing else (sshd's `restrict` turns off forwarding, a terminal and ~/.ssh/rc; `command=`
# replaces whatever the client asks to run). On Proxmox VE root's authorized_keys is a link into /etc/pve
# (pmxcfs, shared by the cluster), so the file is rewritten in place, never replaced.
# Header variables: AIDS_ENV, AIDS_MODE, AIDS_CHECK_B64 (the check script, base64), AIDS_PREVIEW_PUBKEY
# ("ssh-ed25519 AAAA..."). AIDS_AUTHORIZED_KEYS (default /root/.ssh/authorized_keys) and AIDS_ROOT (a
# prefix for the installed script) for tests only.
set -euo pipefail
R="${AIDS_ROOT:-}"
log() { printf 'ai-dualstack[%s]: %s\n' "$AIDS_ENV" "$*"; }
check="$R/usr/local/lib/ai-dualstack/host-check-${AIDS_ENV}.sh"
keys="$(readlink -f "${AIDS_AUTHORIZED_KEYS:-/root/.ssh/authorized_keys}")"
marker="aids-${AIDS_ENV}-preview"
touch "$keys"
others="$(grep -v " ${marker}\$" "$keys" || true)"

if [[ "$AIDS_MODE" == "remove" ]]; then
    [[ "$(cat "$keys")" == "$others" ]] || printf '%s\n' "$others" >"$keys"
    rm -f "$check"
    log "preview key and its host check removed"
    exit 0
fi

mkdir -p "$(dirname "$check")"
printf '%s' "$AIDS_CHECK_B64" | base64 -d >"$check.new"
chmod 0755 "$check.new"
mv "$check.new" "$check"
line="restrict,command=\"${check}\" ${AIDS_PREVIEW_PUBKEY} ${marker}"
nl=$'\n'
wanted="${others:+${others}${nl}}${line}"
if [[ "$(cat "$keys")" != "$wanted" ]]; then
    printf '%s\n' "$wanted" >"$keys"
    log "preview key admitted, to the read-only host check only"
fi
