# Sets up CrowdSec in the security container, idempotently: Debian's package (at least a floor) without the
# Central API (nothing leaves the LAN), the Traefik parser and the HTTP scenarios from the package's
# offline hub, the syslog listener for the proxy's access log that the node ships, the ban profile,
# the local API on the container's address for the node's firewall bouncer, and that bouncer's key
# (register_bouncer, from crowdsec-bouncer.sh, prepended).
# Inputs (rendered above): AIDS_CS_MIN_VERSION, AIDS_CS_ITEMS (hub paths), AIDS_CS_ACQUIS, AIDS_CS_PROFILES,
# AIDS_CS_LOCAL (config.yaml.local), AIDS_CS_LAPI_URL (the local API's address in it), AIDS_CS_BOUNCER,
# AIDS_CS_BOUNCER_KEY.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack crowdsec: $*"; }

# put FILE MODE CONTENT: writes CONTENT (and one newline) when the file holds anything else; returns 0
# when it wrote. Trailing newlines do not count on either side: `$(cat)` drops the file's, and a rendered
# YAML or wg0.conf ends with one, which made every run rewrite the file and restart what reads it.
put() {
    local want
    want="$(printf '%s' "$3")"
    if [[ "$(cat "$1" 2>/dev/null || true)" == "$want" ]]; then return 1; fi
    (umask 027 && printf '%s\n' "$want" >"$1")
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
# The agent logs in to the local API with the credentials Debian's postinst wrote (`cscli machines add`),
# whose url is the package's 127.0.0.1:8080. config.yaml.local moves the API to the container's address:
# the url follows it, or the agent cannot log in and exits at every start.
creds=/etc/crowdsec/local_api_credentials.yaml
if ! grep -qxF "url: $AIDS_CS_LAPI_URL" "$creds"; then
    sed -i "s|^url: .*|url: $AIDS_CS_LAPI_URL|" "$creds"
    grep -qxF "url: $AIDS_CS_LAPI_URL" "$creds" || { log "no url line in $creds to point at $AIDS_CS_LAPI_URL"; exit 1; }
    changed=1
fi

systemctl enable --quiet crowdsec
if [[ $changed -eq 1 ]] || ! systemctl is-active --quiet crowdsec; then
    log "restarting crowdsec"
    systemctl restart crowdsec
fi

# The bouncer's key: registered once, and again when serviceSecrets holds a new one (crowdsec-bouncer.sh).
register_bouncer /etc/crowdsec/ai-dualstack-bouncer.sha256
log "ready: $(find /etc/crowdsec/parsers /etc/crowdsec/scenarios -name '*.yaml' | wc -l) parsers and scenarios enabled"
