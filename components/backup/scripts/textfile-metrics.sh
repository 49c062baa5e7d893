# Node-exporter textfile metrics of one backup job (sourced into each job script). The names and
# labels are agreed with the monitoring alerts: {backup, kind}, kind one of pbs, pg_dump, qdrant, chroma.
# AIDS_TEXTFILE_DIR: node-exporter's textfile directory (Debian's default below).

# aids_metrics BACKUP KIND SUCCESS(1|0) [RUN_TIME [LAST_SUCCESS_TIME]]: rewrites that job's file
# atomically. The run time defaults to now; the last success to now on success, else to the
# previous file's value.
aids_metrics() {
    local backup=$1 kind=$2 ok=$3 dir=${AIDS_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
    local file="$dir/aidualstack_backup_${kind}_${backup//[^A-Za-z0-9_-]/_}.prom"
    local now last_ok labels
    now=${4:-$(date +%s)}
    labels="backup=\"$backup\",kind=\"$kind\""
    last_ok=0
    if [[ -f $file ]]; then
        last_ok=$(sed -n 's/^aidualstack_backup_last_success_timestamp_seconds{[^}]*} \([0-9]*\)$/\1/p' "$file" | head -n1)
        last_ok=${last_ok:-0}
    fi
    if [[ -n ${5:-} ]]; then
        last_ok=$5
    elif [[ $ok == 1 ]]; then
        last_ok=$now
    fi
    mkdir -p "$dir"
    {
        echo "# HELP aidualstack_backup_last_run_timestamp_seconds When the backup job last ran."
        echo "# TYPE aidualstack_backup_last_run_timestamp_seconds gauge"
        echo "aidualstack_backup_last_run_timestamp_seconds{$labels} $now"
        echo "# HELP aidualstack_backup_last_run_success Whether the backup job's last run succeeded (1) or not (0)."
        echo "# TYPE aidualstack_backup_last_run_success gauge"
        echo "aidualstack_backup_last_run_success{$labels} $ok"
        echo "# HELP aidualstack_backup_last_success_timestamp_seconds When the backup job last succeeded (0: never)."
        echo "# TYPE aidualstack_backup_last_success_timestamp_seconds gauge"
        echo "aidualstack_backup_last_success_timestamp_seconds{$labels} $last_ok"
    } >"$file.tmp.$$"
    mv -f "$file.tmp.$$" "$file"
}

# aids_prune DIR DAYS: removes files older than DAYS days under DIR, but never the newest run's.
aids_prune() {
    local dir=$1 days=$2 newest
    newest=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name '20*' | sort | tail -n1)
    find "$dir" -mindepth 1 -maxdepth 1 -type d -name '20*' -mtime "+$((days - 1))" -print0 |
        while IFS= read -r -d '' old; do
            [[ $old == "$newest" ]] || rm -rf -- "$old"
        done
}
