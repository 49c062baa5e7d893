# Nightly dump of every database of this PostgreSQL server (pg_dump custom format), its roles
# (pg_dumpall --globals-only) and a SHA-256 list, into AIDS_DUMP_DIR/<UTC time>/; older runs pruned
# after AIDS_KEEP_DAYS days. It first records the run in aidualstack.backup_runs, the known table that
# the restore drill queries. Writes the textfile metrics of kind pg_dump.
# Env: AIDS_BACKUP_NAME, AIDS_DUMP_DIR, AIDS_KEEP_DAYS, AIDS_TEXTFILE_DIR; AIDS_PG_RUNAS (run the
# PostgreSQL clients as that user, e.g. postgres); PGHOST/PGPORT as libpq reads them.
set -euo pipefail

if [[ ${1:-} == --help ]]; then
    echo "usage: pg-dump.sh   (settings from the environment: AIDS_BACKUP_NAME, AIDS_DUMP_DIR, AIDS_KEEP_DAYS, AIDS_TEXTFILE_DIR, AIDS_PG_RUNAS)"
    exit 0
fi

name=${AIDS_BACKUP_NAME:?AIDS_BACKUP_NAME is not set}
root=${AIDS_DUMP_DIR:-/var/backups/ai-dualstack/postgresql}
keep=${AIDS_KEEP_DAYS:-7}

pg() {
    if [[ -n ${AIDS_PG_RUNAS:-} ]]; then
        runuser -u "$AIDS_PG_RUNAS" -- "$@"
    else
        "$@"
    fi
}

dump() {
    local dir db
    dir="$root/$(date -u +%Y%m%dT%H%M%SZ)"
    # A second run in the same second gets its own folder.
    [[ -e $dir ]] && dir="$dir-$$"
    mkdir -p "$dir.partial"
    chmod 700 "$root" "$dir.partial"
    # The known table: one row per run, so a restore shows which night it holds.
    if ! pg psql -v ON_ERROR_STOP=1 -XAtqd postgres -c "SELECT 1 FROM pg_database WHERE datname = 'aidualstack'" | grep -q 1; then
        pg createdb aidualstack
    fi
    pg psql -v ON_ERROR_STOP=1 -Xqd aidualstack <<'SQL'
CREATE TABLE IF NOT EXISTS backup_runs (id bigserial PRIMARY KEY, started_at timestamptz NOT NULL DEFAULT now(), host text NOT NULL DEFAULT coalesce(inet_server_addr()::text, 'local socket'));
ALTER TABLE backup_runs ALTER COLUMN host SET DEFAULT coalesce(inet_server_addr()::text, 'local socket');
INSERT INTO backup_runs DEFAULT VALUES;
SQL
    pg pg_dumpall --globals-only >"$dir.partial/globals.sql"
    while IFS= read -r db; do
        [[ -n $db ]] || continue
        pg pg_dump --format=custom --dbname="$db" >"$dir.partial/$db.dump"
    done < <(pg psql -XAtqd postgres -c "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'postgres' ORDER BY 1")
    (cd "$dir.partial" && sha256sum -- * >SHA256SUMS)
    mv "$dir.partial" "$dir"
    ln -sfn "$dir" "$root/latest"
    echo "pg-dump: $(find "$dir" -name '*.dump' | wc -l) databases dumped into $dir"
}

mkdir -p "$root"
# In a subshell of its own, not under `if`: bash ignores set -e in a function tested by `if`.
set +e
(
    set -e
    dump
)
rc=$?
set -e
if [[ $rc == 0 ]]; then
    aids_prune "$root" "$keep"
    aids_metrics "$name" pg_dump 1
else
    rm -rf -- "$root"/*.partial
    aids_metrics "$name" pg_dump 0
    exit 1
fi
