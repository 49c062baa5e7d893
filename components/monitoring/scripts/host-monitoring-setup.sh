# Sets up monitoring on a Proxmox node, idempotently: Debian's prometheus-node-exporter from the node's
# suite, at least the configured version (its ZFS
# collector on, plus the pool-status textfile from aidualstack-zpool-textfile.timer every 5 minutes),
# prometheus-pve-exporter pinned in its own venv with the read-only PVEAuditor token, and one node
# firewall rule that admits the monitoring host, and nothing wider, to ports 9100 and 9221.
# Inputs (rendered above): AIDS_NODE, AIDS_NODE_EXPORTER_VERSION, AIDS_PVE_EXPORTER_VERSION,
# AIDS_MONITORING_SOURCE, AIDS_FILES (array of "path mode owner base64": pve.yml, units, the script).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack host monitoring: $*"; }

pkg_floor prometheus-node-exporter "$AIDS_NODE_EXPORTER_VERSION" || true
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
for entry in "${AIDS_FILES[@]}"; do
    read -r path mode owner content <<<"$entry"
    put_file "$path" "$mode" "$owner" "$content"
done
for path in "${changed_files[@]}"; do rm -f "$R$path.aids-previous"; done

venv="$R/opt/aidualstack/pve-exporter"
have="$("$venv/bin/pip" show prometheus-pve-exporter 2>/dev/null | sed -n 's/^Version: //p' || true)"
if [[ "$have" != "$AIDS_PVE_EXPORTER_VERSION" ]]; then
    log "installing prometheus-pve-exporter $AIDS_PVE_EXPORTER_VERSION"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "prometheus-pve-exporter==$AIDS_PVE_EXPORTER_VERSION"
    changed_files+=(/opt/aidualstack/pve-exporter)
fi
mkdir -p "$R/var/lib/prometheus/node-exporter"
if changed /etc/systemd/system/; then systemctl daemon-reload; fi
restart prometheus-node-exporter /etc/default/prometheus-node-exporter
restart aidualstack-pve-exporter /etc/prometheus/pve.yml /etc/systemd/system/aidualstack-pve-exporter.service /opt/aidualstack/pve-exporter
restart aidualstack-zpool-textfile.timer /etc/systemd/system/aidualstack-zpool-textfile.timer
# The pool metrics at once when the job is new or changed; otherwise the timer keeps them (a start on
# every run would run the job on every `up`).
if changed /usr/local/lib/aidualstack/zpool-textfile.sh || changed /etc/systemd/system/aidualstack-zpool-textfile.service; then
    systemctl start aidualstack-zpool-textfile.service
fi

# The node's firewall: one rule, found by its comment, re-made when the monitoring host moves.
comment="ai-dualstack monitoring: node and pve exporters"
rules="$(pvesh get "/nodes/$AIDS_NODE/firewall/rules" --output-format json)"
found="$(python3 -c '
import json, sys
for r in json.loads(sys.argv[1]):
    if r.get("comment") == sys.argv[2]:
        print(r["pos"], r.get("source", ""))
        break
' "$rules" "$comment")"
if [[ -n "$found" && "${found#* }" != "$AIDS_MONITORING_SOURCE" ]]; then
    pvesh delete "/nodes/$AIDS_NODE/firewall/rules/${found%% *}"
    found=""
fi
if [[ -z "$found" ]]; then
    pvesh create "/nodes/$AIDS_NODE/firewall/rules" --type in --action ACCEPT --enable 1 --proto tcp \
        --dport 9100,9221 --source "$AIDS_MONITORING_SOURCE" --comment "$comment"
    log "node firewall: exporters open to $AIDS_MONITORING_SOURCE"
fi
log "ready: node-exporter $AIDS_NODE_EXPORTER_VERSION, pve-exporter $AIDS_PVE_EXPORTER_VERSION"
