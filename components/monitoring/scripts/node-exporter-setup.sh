# Installs Debian's prometheus-node-exporter (the container's suite, at least the configured version) in a service container, idempotently; it serves
# :9100, which the container's firewall opens to the monitoring host alone. Its textfile directory
# (/var/lib/prometheus/node-exporter) is where jobs on the guest (backups) write their metrics.
# Inputs (rendered above): AIDS_NODE_EXPORTER_VERSION.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack node-exporter: $*"; }

pkg_floor prometheus-node-exporter "$AIDS_NODE_EXPORTER_VERSION" || true
mkdir -p "$R/var/lib/prometheus/node-exporter"
systemctl enable --quiet prometheus-node-exporter
systemctl is-active --quiet prometheus-node-exporter || systemctl restart prometheus-node-exporter
log "ready: prometheus-node-exporter $(dpkg-query -W -f='${Version}' prometheus-node-exporter) on :9100"
