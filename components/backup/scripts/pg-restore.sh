# Restores a pg-dump.sh run (a directory holding globals.sql, <db>.dump and SHA256SUMS) into this
# PostgreSQL server: checks the sums, creates the roles, then each database afresh (an existing one
# is refused unless --replace drops it first).
# Usage: pg-restore.sh [--replace] DUMP_DIR   (AIDS_PG_RUNAS and PGHOST/PGPORT as for pg-dump.sh)
set -euo pipefail

usage() { echo "usage: pg-restore.sh [--replace] DUMP_DIR"; }
replace=0
case ${1:-} in
--help)
    usage
    exit 0
    ;;
--replace)
    replace=1
    shift
    ;;
esac
dir=${1:-}
if [[ -z $dir || ! -d $dir ]]; then
    usage >&2
    exit 2
fi

pg() {
    if [[ -n ${AIDS_PG_RUNAS:-} ]]; then
        runuser -u "$AIDS_PG_RUNAS" -- "$@"
    else
        "$@"
    fi
}

(cd "$dir" && sha256sum --quiet -c SHA256SUMS)
# Roles: "already exists" for the restoring superuser is expected, so errors do not stop this part.
pg psql -Xqd postgres -f - <"$dir/globals.sql" >/dev/null 2>&1 || true
for file in "$dir"/*.dump; do
    [[ -e $file ]] || continue
    db=$(basename "$file" .dump)
    exists=$(pg psql -XAtqd postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
    if [[ $exists == 1 ]]; then
        if [[ $replace == 0 ]]; then
            echo "pg-restore: database $db exists; pass --replace to drop it first" >&2
            exit 1
        fi
        pg dropdb --force "$db"
    fi
    pg pg_restore --create --exit-on-error --dbname=postgres <"$file"
    echo "pg-restore: $db restored"
done
