# Installs and configures Redis in its service container, idempotently: the package, listening on
# the container's address with a password (protected mode stays on), a memory cap with LRU
# eviction (it is a cache). Restarts only when the managed file changed.
# Inputs (rendered above): AIDS_REDIS_PASSWORD, AIDS_REDIS_MAXMEMORY_MIB.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack redis: $*"; }

if ! command -v redis-server >/dev/null; then
    log "installing redis-server"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

managed=/etc/redis/ai-dualstack.conf
want="# Managed by ai-dualstack.
bind 0.0.0.0
protected-mode yes
requirepass $AIDS_REDIS_PASSWORD
maxmemory ${AIDS_REDIS_MAXMEMORY_MIB}mb
maxmemory-policy allkeys-lru"
changed=0
if [[ "$(cat "$managed" 2>/dev/null || true)" != "$want" ]]; then
    (umask 027 && printf '%s\n' "$want" >"$managed")
    chown root:redis "$managed"
    changed=1
fi
# Included last, so that its settings win over redis.conf's own.
if ! grep -qx "include $managed" /etc/redis/redis.conf; then
    printf '\ninclude %s\n' "$managed" >>/etc/redis/redis.conf
    changed=1
fi
systemctl enable --quiet redis-server
if [[ $changed -eq 1 ]]; then
    log "restarting redis-server"
    systemctl restart redis-server
fi
log "ready: maxmemory ${AIDS_REDIS_MAXMEMORY_MIB} MiB, password required"
