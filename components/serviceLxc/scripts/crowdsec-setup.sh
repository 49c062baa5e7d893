# Sets up CrowdSec in the security container, idempotently: Debian's package (at least a floor) without the
# Central API (nothing leaves the LAN), the Traefik parser and the HTTP scenarios from the package's
# offline hub, the syslog listener for the proxy's access log that the node ships, the ban profile,
# the local API on the container's address for the node's firewall bouncer, and that bouncer's key
# (register_bouncer, from crowdsec-bouncer.sh, prepended).
# Inputs (rendered above): AIDS_CS_MIN_VERSION, AIDS_CS_ITEMS (hub paths), AIDS_CS_ACQUIS, AIDS_CS_PROFILES,
# AIDS_CS_LOCAL (config.yaml.local), AIDS_CS_BOUNCER, AIDS_CS_BOUNCER_KEY.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack crowdsec: $*"; }

# put FILE MODE CONTENT: writes the file when its content differs; returns 0 when it wrote.
put() {
    if [[ "$(cat "$1" 2>/dev/null || true)" == "$3" ]]; then return 1; fi
    (umask 027 && printf '%s\n' "$3" >"$1")
    chmod "$2" "$1"
}

changed=0
mkdir -p /etc/crowdsec/acquis.d
# A non-empty credentials file before the install keeps the package from registering with the Central API.
capi=/etc/crowdsec/online_api_credentials.yaml
[[ -s "$capi" ]] || printf '# ai-dualstack: no Central API (no signals out, no community blocklist in)\n' >"$capi"
# From the container's own suite, at least the floor, never held (pkg_floor); sqlite3 stores the bouncer
# key's hash (crowdsec-bouncer.sh).
pkg_floor crowdsec "$AIDS_CS_MIN_VERSION" && changed=1
pkg_floor sqlite3 3 || true

# Hub items by symlink from the package's offline hub, as its own install does (vendor folder dropped).
hub=/var/lib/crowdsec/hub
for item in $AIDS_CS_ITEMS; do
    kind_stage="$(dirname "$(dirname "$item")")"
    link="/etc/crowdsec/$kind_stage/$(basename "$item")"
    [[ -f "$hub/$item" ]] || { log "missing hub item $item in the package"; exit 1; }
    if [[ "$(readlink "$link" 2>/dev/null || true)" != "$hub/$item" ]]; then
        mkdir -p "$(dirname "$link")"
        ln -sfn "$hub/$item" "$link"
        changed=1
    fi
done

put /etc/crowdsec/acquis.d/ai-dualstack-proxy.yaml 640 "$AIDS_CS_ACQUIS" && changed=1
put /etc/crowdsec/profiles.yaml 640 "$AIDS_CS_PROFILES" && changed=1
put /etc/crowdsec/config.yaml.local 640 "$AIDS_CS_LOCAL" && changed=1

systemctl enable --quiet crowdsec
if [[ $changed -eq 1 ]] || ! systemctl is-active --quiet crowdsec; then
    log "restarting crowdsec"
    systemctl restart crowdsec
fi

# The bouncer's key: registered once, and again when serviceSecrets holds a new one (crowdsec-bouncer.sh).
register_bouncer /etc/crowdsec/ai-dualstack-bouncer.sha256
log "ready: $(find /etc/crowdsec/parsers /etc/crowdsec/scenarios -name '*.yaml' | wc -l) parsers and scenarios enabled"
