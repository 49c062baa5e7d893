# The security container's node-side part, idempotently: the WireGuard kernel module (a container
# cannot load it), and for CrowdSec Debian's firewall bouncer (at least a floor), which keeps the banned
# addresses in an nftables set whose one rule drops them on their way to the public proxy's VM only
# (forward), and the shipper that carries the public proxy's access log from its VM's guest agent to CrowdSec.
# Inputs (rendered above): AIDS_WIREGUARD (0/1), AIDS_CROWDSEC (0/1), AIDS_BOUNCER_MIN_VERSION,
# AIDS_BOUNCER_LOCAL (the bouncer's config override, with its key), AIDS_BOUNCER_NFT (the table it fills),
# AIDS_SHIPPER_B64 (the shipper script),
# AIDS_SHIP_ARGS (VMID CONTAINER DEST PORT).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack security (node): $*"; }

# put FILE MODE CONTENT: writes CONTENT (and one newline) when the file holds anything else; returns 0
# when it wrote. Trailing newlines do not count on either side: `$(cat)` drops the file's, and a rendered
# YAML or wg0.conf ends with one, which made every run rewrite the file and restart what reads it.
put() {
    local want
    want="$(printf '%s' "$3")"
    if [[ "$(cat "$1" 2>/dev/null || true)" == "$want" ]]; then return 1; fi
    (umask 077 && printf '%s\n' "$want" >"$1")
    chmod "$2" "$1"
}

if [[ "$AIDS_WIREGUARD" == 1 ]]; then
    put /etc/modules-load.d/ai-dualstack-wireguard.conf 644 "wireguard" || true
    lsmod | grep -q '^wireguard ' || { log "loading the wireguard module"; modprobe wireguard; }
fi

[[ "$AIDS_CROWDSEC" == 1 ]] || exit 0
conf=/etc/crowdsec/bouncers/crowdsec-firewall-bouncer.yaml
mkdir -p /etc/crowdsec/bouncers
changed=0
# Written before the install: the package then neither registers itself nor overrides it.
put "$conf.local" 600 "$AIDS_BOUNCER_LOCAL" && changed=1
# The table must exist before the bouncer (set-only): each start of the bouncer loads it afresh. The
# local API lives in the security container, which Proxmox starts after the node's own services
# (pve-guests.service); a bouncer that finds it away exits, successfully ("stream api init failed"), and
# the package's unit does not restart it: so it starts again every 10 s until the API answers.
mkdir -p /etc/ai-dualstack /etc/systemd/system/crowdsec-firewall-bouncer.service.d
put /etc/ai-dualstack/crowdsec-bouncer.nft 644 "$AIDS_BOUNCER_NFT" && changed=1
put /etc/systemd/system/crowdsec-firewall-bouncer.service.d/ai-dualstack.conf 644 "[Service]
ExecStartPre=/usr/sbin/nft -f /etc/ai-dualstack/crowdsec-bouncer.nft
Restart=always
RestartSec=10" && { changed=1; systemctl daemon-reload; }
# From the node's own suite (bookworm on Proxmox VE 8, trixie on 9), at least the floor, never held.
pkg_floor crowdsec-firewall-bouncer "$AIDS_BOUNCER_MIN_VERSION" nftables && changed=1
command -v nft >/dev/null || { apt-get install -y -qq --no-install-recommends nftables >/dev/null; changed=1; }
nft -c -f /etc/ai-dualstack/crowdsec-bouncer.nft
systemctl enable --quiet crowdsec-firewall-bouncer
if [[ $changed -eq 1 ]] || ! systemctl is-active --quiet crowdsec-firewall-bouncer; then
    log "restarting the firewall bouncer"
    systemctl restart crowdsec-firewall-bouncer
fi

unit="[Unit]
Description=ai-dualstack: ship the public proxy's access log to CrowdSec
After=network-online.target pve-guests.service

[Service]
ExecStart=/usr/local/sbin/aids-proxy-log-ship $AIDS_SHIP_ARGS
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target"
ship_changed=0
put /usr/local/sbin/aids-proxy-log-ship 755 "$(printf '%s' "$AIDS_SHIPPER_B64" | base64 -d)" && ship_changed=1
put /etc/systemd/system/aids-proxy-log-ship.service 644 "$unit" && ship_changed=1
[[ $ship_changed -eq 0 ]] || systemctl daemon-reload
systemctl enable --quiet aids-proxy-log-ship
if [[ $ship_changed -eq 1 ]] || ! systemctl is-active --quiet aids-proxy-log-ship; then
    log "restarting the access-log shipper ($AIDS_SHIP_ARGS)"
    systemctl restart aids-proxy-log-ship
fi
log "ready: bouncer and shipper running"
