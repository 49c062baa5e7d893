# Installs and configures Prometheus, Alertmanager (both from Debian) and Grafana (from Grafana's apt
# repository) in the monitoring container, idempotently: Debian's from the container's suite, at least
# the configured versions, Grafana exactly its pinned one, nothing held; the rendered
# files (written only when they differ), promtool and amtool run on them before any restart (a refused
# file is rolled back), and only the services whose files changed restarted. Grafana's admin password
# is reset to the configured one on every run.
# Inputs (rendered above): AIDS_PROMETHEUS_VERSION, AIDS_ALERTMANAGER_VERSION, AIDS_NODE_EXPORTER_VERSION,
# AIDS_GRAFANA_VERSION, AIDS_GRAFANA_PASSWORD, AIDS_GRAFANA_REPO_B64 (the pinned key and repository), AIDS_FILES (array of "path mode owner base64").
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack monitoring: $*"; }

if [[ ! -f "$R/etc/apt/sources.list.d/grafana.list" ]]; then
    log "adding Grafana's apt repository"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ca-certificates curl gpg >/dev/null
    mkdir -p "$R/etc/apt/keyrings" "$R/etc/apt/sources.list.d"
    # Grafana's key only when its fingerprint is the pinned one (lib/aptKeys.ts): else refused, nothing written.
    sh -c "$(printf '%s' "$AIDS_GRAFANA_REPO_B64" | base64 -d)"
    apt_updated=0
fi
# Debian's packages from the container's own suite, at least the configured versions (pkg_floor).
pkg_floor prometheus "$AIDS_PROMETHEUS_VERSION" || true
pkg_floor prometheus-alertmanager "$AIDS_ALERTMANAGER_VERSION" || true
pkg_floor prometheus-node-exporter "$AIDS_NODE_EXPORTER_VERSION" || true
ensure_pkg grafana "$AIDS_GRAFANA_VERSION"

for entry in "${AIDS_FILES[@]}"; do
    read -r path mode owner content <<<"$entry"
    put_file "$path" "$mode" "$owner" "$content"
done

# The real validators, on the files as written; anything they refuse is rolled back.
if changed /etc/prometheus/; then
    # Syntax only: the rule files it names are checked next, by their own command.
    promtool check config --syntax-only "$R/etc/prometheus/prometheus.yml" >/dev/null || roll_back "promtool check config"
    promtool check rules "$R"/etc/prometheus/rules/*.yml >/dev/null || roll_back "promtool check rules"
    amtool check-config "$R/etc/prometheus/alertmanager.yml" >/dev/null || roll_back "amtool check-config"
fi
for path in "${changed_files[@]}"; do rm -f "$R$path.aids-previous"; done

restart prometheus-node-exporter /etc/default/prometheus-node-exporter
restart prometheus-alertmanager /etc/prometheus/alertmanager.yml /etc/default/prometheus-alertmanager
restart prometheus /etc/prometheus/prometheus.yml /etc/prometheus/rules/ /etc/default/prometheus
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
