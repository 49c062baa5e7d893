# The vector stores' snapshots, taken in the VM and kept on its disk (which the VM's guest backup
# carries into PBS): Qdrant through its snapshot API (create, download, delete on the server);
# ChromaDB, which has no snapshot API, by pausing its container while its volume is archived.
# Each store gets textfile metrics of kind qdrant or chroma; runs older than AIDS_KEEP_DAYS are pruned.
# Env: AIDS_STORES ("qdrant:<container> chroma:<container>:<volume> ..."), AIDS_SNAPSHOT_DIR,
# AIDS_KEEP_DAYS, AIDS_TEXTFILE_DIR, AIDS_BACKUP_PREFIX (the VM's name); QDRANT_API_KEY.
set -euo pipefail

if [[ ${1:-} == --help ]]; then
    echo "usage: vector-snapshot.sh   (settings from the environment: AIDS_STORES, AIDS_SNAPSHOT_DIR, AIDS_KEEP_DAYS, AIDS_BACKUP_PREFIX, QDRANT_API_KEY)"
    exit 0
fi

root=${AIDS_SNAPSHOT_DIR:-/var/backups/ai-dualstack}
keep=${AIDS_KEEP_DAYS:-7}
prefix=${AIDS_BACKUP_PREFIX:?AIDS_BACKUP_PREFIX is not set}
stamp=$(date -u +%Y%m%dT%H%M%SZ)

# Qdrant's key travels in a mode-600 header file (`curl -H @file`, curl 7.55+), never in curl's
# arguments, which any user of the VM can read in `ps`.
headers=$(mktemp)
trap 'rm -f -- "$headers"' EXIT
chmod 600 "$headers"
printf 'api-key: %s\n' "${QDRANT_API_KEY:-}" >"$headers"

# The container's address on its Docker network: the API is reached there, published or not.
container_ip() {
    docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" | awk '{print $1}'
}

qdrant() {
    local ctr=$1 dir=$2 base name
    base="http://$(container_ip "$ctr"):${AIDS_QDRANT_PORT:-6333}"
    local auth=(-H "@$headers")
    name=$(curl -fsS "${auth[@]}" -X POST "$base/snapshots?wait=true" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["result"]["name"])')
    curl -fsS "${auth[@]}" -o "$dir/$name.partial" "$base/snapshots/$name"
    mv "$dir/$name.partial" "$dir/$name"
    curl -fsS "${auth[@]}" -X DELETE "$base/snapshots/$name?wait=true" >/dev/null
    (cd "$dir" && sha256sum -- "$name" >>SHA256SUMS)
}

chroma() {
    local ctr=$1 volume=$2 dir=$3 src
    src=$(docker volume inspect -f '{{.Mountpoint}}' "$volume")
    docker pause "$ctr" >/dev/null
    # Unpaused whatever happens to the copy.
    local rc=0
    tar -C "$src" -czf "$dir/chroma-$stamp.tar.gz.partial" . || rc=$?
    docker unpause "$ctr" >/dev/null
    [[ $rc == 0 ]] || return "$rc"
    mv "$dir/chroma-$stamp.tar.gz.partial" "$dir/chroma-$stamp.tar.gz"
    (cd "$dir" && sha256sum -- "chroma-$stamp.tar.gz" >>SHA256SUMS)
}

snapshot_one() {
    case $1 in
    qdrant) qdrant "$2" "$4" ;;
    chroma) chroma "$2" "$3" "$4" ;;
    *)
        echo "vector-snapshot: unknown store kind $1" >&2
        return 1
        ;;
    esac
}

failed=0
for store in ${AIDS_STORES:?AIDS_STORES is not set}; do
    IFS=: read -r kind ctr volume <<<"$store"
    mkdir -p "$root/$kind"
    chmod 700 "$root" "$root/$kind"
    # Written under a hidden name, renamed once complete: a failed run never touches an earlier one.
    dir=$(mktemp -d "$root/$kind/.partial.XXXXXX")
    # In a subshell of its own, not under `if`: bash ignores set -e in a function tested by `if`.
    set +e
    (
        set -e
        snapshot_one "$kind" "$ctr" "$volume" "$dir"
    )
    rc=$?
    set -e
    if [[ $rc == 0 ]]; then
        final="$root/$kind/$stamp"
        [[ -e $final ]] && final="$final-$$"
        mv "$dir" "$final"
        dir=$final
        aids_prune "$root/$kind" "$keep"
        aids_metrics "$prefix-$ctr" "$kind" 1
        echo "vector-snapshot: $kind ($ctr) into $dir"
    else
        rm -rf -- "$dir"
        aids_metrics "$prefix-$ctr" "$kind" 0
        echo "vector-snapshot: $kind ($ctr) FAILED" >&2
        failed=1
    fi
done
exit "$failed"
