# Installs and configures PostgreSQL in its service container, idempotently: the package, listening
# on the container's address, one database with an owner role of the same name per configured
# database, and pg_hba entries (scram-sha-256) for the allowed networks only. Rerunning changes
# nothing unless the config did; passwords are (re)set on every run so a rotated secret applies.
# Inputs (rendered above): AIDS_PG_DATABASES (space-separated names), AIDS_PG_PASSWORDS (associative
# array name → password), AIDS_PG_ALLOW (space-separated CIDRs).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
log() { echo "ai-dualstack postgres: $*"; }

if ! command -v pg_lsclusters >/dev/null; then
    log "installing postgresql"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
version="$(pg_lsclusters -h | awk '$2 == "main" { print $1 }' | sort -V | tail -n 1)"
[[ -n "$version" ]] || { log "no main cluster found" >&2; exit 1; }
conf="/etc/postgresql/$version/main"
restart=0

want_conf="# Managed by ai-dualstack.
listen_addresses = '*'
password_encryption = 'scram-sha-256'"
mkdir -p "$conf/conf.d"
if [[ "$(cat "$conf/conf.d/ai-dualstack.conf" 2>/dev/null || true)" != "$want_conf" ]]; then
    printf '%s\n' "$want_conf" >"$conf/conf.d/ai-dualstack.conf"
    restart=1
fi

# pg_hba: the managed block is rewritten whole; everything outside it stays as it was.
hba="$conf/pg_hba.conf"
block="# BEGIN ai-dualstack"
for db in $AIDS_PG_DATABASES; do
    for net in $AIDS_PG_ALLOW; do
        block+=$'\n'"host    $db    $db    $net    scram-sha-256"
    done
done
block+=$'\n'"# END ai-dualstack"
current="$(sed -n '/^# BEGIN ai-dualstack$/,/^# END ai-dualstack$/p' "$hba")"
if [[ "$current" != "$block" ]]; then
    sed -i '/^# BEGIN ai-dualstack$/,/^# END ai-dualstack$/d' "$hba"
    printf '%s\n' "$block" >>"$hba"
    log "pg_hba.conf: access for ${AIDS_PG_ALLOW:-nobody}"
    [[ $restart -eq 1 ]] || systemctl reload "postgresql@$version-main"
fi

if [[ $restart -eq 1 ]]; then
    log "restarting PostgreSQL $version"
    systemctl restart "postgresql@$version-main"
fi
systemctl enable --quiet "postgresql@$version-main"

psql_() { runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -qAt "$@"; }
for db in $AIDS_PG_DATABASES; do
    if [[ "$(psql_ -c "SELECT 1 FROM pg_roles WHERE rolname = '$db'")" != 1 ]]; then
        psql_ -c "CREATE ROLE \"$db\" LOGIN"
        log "created role $db"
    fi
    # The password reaches psql through its environment (\getenv, psql 15+) and stdin, never argv,
    # which any local user could read in /proc.
    AIDS_PG_PW="${AIDS_PG_PASSWORDS[$db]}" psql_ <<<"\\getenv pw AIDS_PG_PW
ALTER ROLE \"$db\" PASSWORD :'pw';"
    if [[ "$(psql_ -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
        runuser -u postgres -- createdb -O "$db" "$db"
        log "created database $db"
    fi
done
log "ready: PostgreSQL $version, databases: ${AIDS_PG_DATABASES:-none}"
