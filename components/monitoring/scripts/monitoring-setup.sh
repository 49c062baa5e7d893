# Installs and configures Prometheus, Alertmanager, the node exporter (from Debian) and Grafana (from
# Grafana's apt repository) in the monitoring container, idempotently, in two steps. First all that
# needs only Debian's archive: its packages from the container's suite (at least the configured
# versions, nothing held), every rendered file, Grafana's provisioning and dashboards included
# (written only when they differ, owner and mode put back when they drift), promtool and amtool on
# them before any restart (a refused file is rolled back), and only the services whose files changed
# restarted. Then Grafana: its repository (pinned key), exactly its pinned version, its service, and
# its admin password reset to the configured one. A Grafana repository that cannot be reached fails
# the run with one line that names it, with the first step complete, so a rerun changes nothing more.
# Inputs (rendered above): AIDS_PROMETHEUS_VERSION, AIDS_ALERTMANAGER_VERSION, AIDS_NODE_EXPORTER_VERSION,
# AIDS_GRAFANA_VERSION, AIDS_GRAFANA_PASSWORD, AIDS_GRAFANA_REPO_URL, AIDS_GRAFANA_REPO_B64 (the pinned
# key and repository), AIDS_FILES (array of "path mode owner base64").
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack monitoring: $*"; }

# Debian's packages from the container's own suite, at least the configured versions (pkg_floor).
pkg_floor prometheus "$AIDS_PROMETHEUS_VERSION" || true
pkg_floor prometheus-alertmanager "$AIDS_ALERTMANAGER_VERSION" || true
pkg_floor prometheus-node-exporter "$AIDS_NODE_EXPORTER_VERSION" || true
# Grafana's key is fetched with curl and read by gpg; curl also waits for Grafana's health below.
missing=()
for pkg in ca-certificates curl gpg; do
    [[ -n "$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)" ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $pkg_updated -eq 1 ]] || apt-get update -qq
    pkg_updated=1
    log "installing ${missing[*]}"
    apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
fi

put_files() {
    local entry path mode owner content
    for entry in "${AIDS_FILES[@]}"; do
        read -r path mode owner content <<<"$entry"
        put_file "$path" "$mode" "$owner" "$content"
    done
}
put_files

# The real validators, on the files as written; anything they refuse is rolled back, with what they
# said (amtool prints its reason on stdout, its verdict on stderr).
validate() {
    local what="$1" out
    shift
    if ! out="$("$@" 2>&1)"; then
        printf '%s\n' "$out" >&2
        roll_back "$what"
    fi
}
if changed /etc/prometheus/; then
    # Syntax only: the rule files it names are checked next, by their own command.
    validate "promtool check config" promtool check config --syntax-only "$R/etc/prometheus/prometheus.yml"
    validate "promtool check rules" promtool check rules "$R"/etc/prometheus/rules/*.yml
    validate "amtool check-config" amtool check-config "$R/etc/prometheus/alertmanager.yml"
fi
for path in "${changed_files[@]}"; do rm -f "$R$path.aids-previous"; done

restart prometheus-node-exporter /etc/default/prometheus-node-exporter
restart prometheus-alertmanager /etc/prometheus/alertmanager.yml /etc/default/prometheus-alertmanager
restart prometheus /etc/prometheus/prometheus.yml /etc/prometheus/rules/ /etc/default/prometheus
log "Prometheus, Alertmanager and the node exporter ready; Grafana's files in place"

# Grafana, from its own repository. Whatever stops it is said in one line naming the repository.
grafana_not_installed() {
    local why
    why="$(printf '%s\n' "$1" | awk 'NF { sub(/^ai-dualstack: /, ""); printf "%s%s", (n++ ? "; " : ""), $0 }')"
    echo "ai-dualstack monitoring: Grafana $AIDS_GRAFANA_VERSION not installed from its apt repository $AIDS_GRAFANA_REPO_URL: $why" >&2
    exit 1
}
if [[ ! -f "$R/etc/apt/sources.list.d/grafana.list" ]]; then
    log "adding Grafana's apt repository $AIDS_GRAFANA_REPO_URL"
    mkdir -p "$R/etc/apt/keyrings" "$R/etc/apt/sources.list.d"
    # Grafana's key only when its fingerprint is the pinned one (lib/aptKeys.ts): else refused, nothing written.
    out="$(sh -c "$(printf '%s' "$AIDS_GRAFANA_REPO_B64" | base64 -d)" 2>&1)" || grafana_not_installed "$out"
    apt_updated=0
fi
# An earlier run added the repository; apt-get update only warns when it cannot be reached, and the
# install then fails: its first error and the fetch warning say why.
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
if ! ensure_pkg grafana "$AIDS_GRAFANA_VERSION" 2>"$errors"; then
    out="$(grep -m1 '^E:' "$errors" || tail -n1 "$errors")"
    grafana_not_installed "$out${out:+$'\n'}$(grep -m1 "^W: .*${AIDS_GRAFANA_REPO_URL#https://}" "$errors" || true)"
fi
cat "$errors" >&2
# Grafana's package brings its user and group, which the files above name. Its postinst (grafana
# packaging/deb/control/postinst) keeps a grafana.ini already there (it copies its sample only when
# none is) and a provisioning folder already there, and re-owns /etc/grafana and /var/lib/grafana:
# put the owners back.
put_files
for path in "${changed_files[@]}"; do rm -f "$R$path.aids-previous"; done

restart grafana-server /etc/grafana/ /var/lib/grafana/dashboards/
# The admin password in grafana.ini acts only on the first start; the CLI sets it on every run, read
# from its stdin (`--password-from-stdin`, grafana pkg/cmd/grafana-cli/commands/reset_password_command.go),
# never from its arguments, which `ps` shows to every user of the container.
for _ in $(seq 1 30); do
    curl -fsS -o /dev/null "http://127.0.0.1:3000/api/health" && break
    sleep 2
done
runuser -u grafana -- grafana cli --homepath /usr/share/grafana --config /etc/grafana/grafana.ini \
    admin reset-admin-password --password-from-stdin <<<"$AIDS_GRAFANA_PASSWORD" >/dev/null
log "ready: ${#changed_files[@]} file(s) changed"
