# Sets up WireGuard in the security container, idempotently: the package, the server config
# (its private key from serviceSecrets), IPv4 forwarding, and an nftables forward chain that lets the
# VPN's clients reach only the networks the environment trusts them with. Restarts only what changed.
# Inputs (rendered above): AIDS_WG_CONF (wg0.conf, with the key), AIDS_WG_NFT (the nftables ruleset),
# AIDS_WG_FORWARD_TO (its destinations, for the log).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack wireguard: $*"; }

missing=()
command -v wg-quick >/dev/null || missing+=(wireguard-tools)
command -v nft >/dev/null || missing+=(nftables)
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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

mkdir -p /etc/wireguard
wg_changed=0
put /etc/wireguard/wg0.conf 600 "$AIDS_WG_CONF" && wg_changed=1

# Forwarding is per network namespace: the container's own, writable under proc:mixed.
put /etc/sysctl.d/90-ai-dualstack-forward.conf 644 "net.ipv4.ip_forward = 1" || true
sysctl -q -w net.ipv4.ip_forward=1

# The container routes only from the tunnel to the trusted destinations, and replies back.
rules="$AIDS_WG_NFT"
nft_changed=0
put /etc/nftables.conf 755 "$rules" && nft_changed=1
nft -c -f /etc/nftables.conf
systemctl enable --quiet nftables
if [[ $nft_changed -eq 1 ]] || ! nft list table inet aids_vpn >/dev/null 2>&1; then
    log "loading the forward rules: wg0 to $AIDS_WG_FORWARD_TO"
    systemctl restart nftables
fi

systemctl enable --quiet wg-quick@wg0
if [[ $wg_changed -eq 1 ]] && systemctl is-active --quiet wg-quick@wg0; then
    log "reloading wg0 (peers or keys changed)"
    wg syncconf wg0 <(wg-quick strip wg0)
elif ! systemctl is-active --quiet wg-quick@wg0; then
    log "starting wg0"
    systemctl start wg-quick@wg0
fi
log "ready: $(wg show wg0 peers | wc -l) peer(s), forwarding to $AIDS_WG_FORWARD_TO"
