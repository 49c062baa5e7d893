# Proxmox Backup Server in the backup container, idempotently: the package (at least a floor) from Proxmox's
# no-subscription repository for the container's own Debian suite (bookworm: PBS 3, trixie: PBS 4), its
# release key pinned by fingerprint, then per environment served a datastore on
# its own mount point, a namespace, a user with a password and DatastoreBackup on that namespace only,
# a prune job (the retention), a verify job and the GC schedule; optionally an off-site remote and a
# push sync job per datastore; and the metrics timer. Prints the certificate fingerprint last.
# Rendered with: AIDS_PBS_VERSION, AIDS_PBS_REPO_B64 (assoc, by suite: the command adding that suite's
# repository with its pinned key), AIDS_PBS_SUITES (their names, for a refusal),
# AIDS_DATASTORES ("env:/path ..."), AIDS_PASSWORDS (assoc, by env),
# AIDS_KEEP (assoc, by env: "daily weekly monthly"), AIDS_GC, AIDS_PRUNE, AIDS_VERIFY (schedules),
# AIDS_OFFSITE_* (empty host: none), AIDS_METRICS_B64, AIDS_TEXTFILE_B64, AIDS_MAX_AGE_HOURS.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

R="${AIDS_ROOT:-}" # another root only in the sandbox test
mgr=proxmox-backup-manager

# pbs_suite: the container's own Debian suite, when Proxmox builds PBS for it (each Proxmox major is
# built for one Debian release: a bookworm container gets PBS 3, a trixie one PBS 4); another suite is
# refused by name before anything is installed or written.
pbs_suite() {
    local suite
    suite="$(sed -n 's/^VERSION_CODENAME=//p' "$R/etc/os-release" 2>/dev/null | tr -d '"' || true)"
    if [[ -z $suite || -z ${AIDS_PBS_REPO_B64[$suite]:-} ]]; then
        echo "pbs-setup: Debian '${suite:-unknown}' (VERSION_CODENAME in /etc/os-release) is not known here; Proxmox Backup Server is installed from the repositories for ${AIDS_PBS_SUITES}: use a Debian 12 or 13 template" >&2
        exit 1
    fi
    echo "$suite"
}

# At least the configured version, never held (pkg_floor): Proxmox ships PBS's security fixes as new
# versions in this repository, and a hold would keep them out (an earlier set-up's hold is released).
install_pbs() {
    local have suite
    have=$(dpkg-query -W -f '${Version}' proxmox-backup-server 2>/dev/null || true)
    if [[ -n $have ]] && dpkg --compare-versions "$have" ge "$AIDS_PBS_VERSION"; then
        pkg_floor proxmox-backup-server "$AIDS_PBS_VERSION" || true
        return 0
    fi
    suite=$(pbs_suite)
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ca-certificates curl gpg python3
    # The suite's repository, only with its release key pinned by fingerprint (lib/aptKeys.ts).
    mkdir -p "$R/usr/share/keyrings" "$R/etc/apt/sources.list.d"
    sh -c "$(base64 -d <<<"${AIDS_PBS_REPO_B64[$suite]}")"
    pkg_floor proxmox-backup-server "$AIDS_PBS_VERSION" || true
}

# Passwords never go into a command's arguments, which `ps` shows to every user of the container.
# proxmox-backup-manager takes them only as arguments ("fixme: howto handle password parameter?",
# proxmox-backup src/bin/proxmox_backup_manager/user.rs and remote.rs), so they go to PBS's own API
# on the loopback (PUT /access/users/{userid}, POST /config/remote, PUT /config/remote/{name}) with
# curl, each read from a mode-600 file (`--data-urlencode password@FILE`). curl authenticates as a
# short-lived API token of root@pam: `user generate-token` prints its secret on stdout, it goes into a
# header file (`-H @FILE`), and the token holds only the ACLs given here, as a token never has more
# than its own ACLs (docs/user-management.rst "API Tokens", pbs-config src/cached_user_info.rs).
# The self-signed certificate PBS made names 127.0.0.1 (src/config/mod.rs, update_self_signed_cert).
API=https://127.0.0.1:8007/api2/json
TOKEN="root@pam!aids-setup"
secrets=$(mktemp -d) # mode 700
cleanup() {
    if [[ -s $secrets/auth ]]; then
        "$mgr" user delete-token root@pam "${TOKEN#*!}" >/dev/null 2>&1 || true
        "$mgr" acl update /access/users Admin --auth-id "$TOKEN" --delete true >/dev/null 2>&1 || true
        "$mgr" acl update /remote Admin --auth-id "$TOKEN" --delete true >/dev/null 2>&1 || true
    fi
    rm -rf -- "$secrets"
}
trap cleanup EXIT

# api METHOD PATH [CURL ARGS...]: a call of PBS's API as the set-up's token, made on first use.
api() {
    local method=$1 path=$2 out
    shift 2
    if [[ ! -s $secrets/auth ]]; then
        "$mgr" user delete-token root@pam "${TOKEN#*!}" >/dev/null 2>&1 || true
        out=$("$mgr" user generate-token root@pam "${TOKEN#*!}" --expire "$(($(date +%s) + 900))")
        printf 'Authorization: PBSAPIToken %s:%s\n' "$TOKEN" \
            "$(python3 -c 'import json, sys; t = sys.stdin.read(); print(json.loads(t[t.index("{"):])["value"])' <<<"$out")" \
            >"$secrets/auth"
        "$mgr" acl update /access/users Admin --auth-id "$TOKEN"
        "$mgr" acl update /remote Admin --auth-id "$TOKEN"
    fi
    curl -fsS --cacert "$R/etc/proxmox-backup/proxy.pem" -H "@$secrets/auth" -X "$method" "$API$path" "$@" >/dev/null
}

# secret NAME VALUE: VALUE in the mode-600 file $secrets/NAME (printf is bash's own: no process).
secret() {
    (umask 077 && printf '%s' "$2" >"$secrets/$1")
}

# has KIND ID: whether `proxmox-backup-manager KIND list` shows ID.
has() {
    "$mgr" "$1" list --output-format json | grep -q "\"$2\""
}

tenant() {
    local env=$1 path=$2 user="$1-backup@pbs" keep
    read -r -a keep <<<"${AIDS_KEEP[$env]}"
    if ! has datastore "$env"; then
        # A volume that already holds a datastore (a reinstalled PBS, docs/backup.md) is taken as is.
        local reuse=()
        [[ -d $path/.chunks ]] && reuse=(--reuse-datastore true)
        "$mgr" datastore create "$env" "$path" --gc-schedule "$AIDS_GC" "${reuse[@]}"
    else
        "$mgr" datastore update "$env" --gc-schedule "$AIDS_GC"
    fi
    if ! proxmox-backup-debug api get "/admin/datastore/$env/namespace" --output-format json | grep -q "\"ns\":\"$env\""; then
        proxmox-backup-debug api create "/admin/datastore/$env/namespace" --name "$env"
    fi
    if ! has user "$user"; then
        "$mgr" user create "$user" --comment "ai-dualstack: $env guest backups"
    fi
    # The password is set every run: a rotated secret takes effect on the next `up`.
    secret "$env" "${AIDS_PASSWORDS[$env]}"
    api PUT "/access/users/$user" --data-urlencode "password@$secrets/$env"
    "$mgr" acl update "/datastore/$env/$env" DatastoreBackup --auth-id "$user"
    local prune=(--store "$env" --ns "$env" --schedule "$AIDS_PRUNE" --keep-daily "${keep[0]}" --keep-weekly "${keep[1]}" --keep-monthly "${keep[2]}")
    if has prune-job "aids-$env"; then
        "$mgr" prune-job update "aids-$env" "${prune[@]:2}"
    else
        "$mgr" prune-job create "aids-$env" "${prune[@]}"
    fi
    if has verify-job "aids-$env"; then
        "$mgr" verify-job update "aids-$env" --schedule "$AIDS_VERIFY" --ignore-verified true --outdated-after 30
    else
        "$mgr" verify-job create "aids-$env" --store "$env" --ns "$env" --schedule "$AIDS_VERIFY" --ignore-verified true --outdated-after 30
    fi
    offsite "$env"
}

offsite() {
    local env=$1
    [[ -n ${AIDS_OFFSITE_HOST:-} ]] || return 0
    secret offsite "$AIDS_OFFSITE_PASSWORD"
    local remote=(--data-urlencode "host=$AIDS_OFFSITE_HOST" --data-urlencode "auth-id=$AIDS_OFFSITE_AUTH_ID"
        --data-urlencode "fingerprint=$AIDS_OFFSITE_FINGERPRINT" --data-urlencode "password@$secrets/offsite")
    if has remote offsite; then
        api PUT /config/remote/offsite "${remote[@]}"
    else
        api POST /config/remote --data-urlencode name=offsite "${remote[@]}"
    fi
    local sync=(--store "$env" --ns "$env" --remote offsite --remote-store "$AIDS_OFFSITE_PREFIX-$env" --remote-ns "$env" --schedule "$AIDS_OFFSITE_SCHEDULE" --sync-direction push --remove-vanished true)
    if has sync-job "aids-$env-offsite"; then
        "$mgr" sync-job update "aids-$env-offsite" "${sync[@]}"
    else
        "$mgr" sync-job create "aids-$env-offsite" "${sync[@]}"
    fi
}

install_pbs
for entry in $AIDS_DATASTORES; do
    env=${entry%%:*}
    path=${entry#*:}
    mountpoint -q "$path" || {
        echo "pbs-setup: $path is not a mount point: the datastore must be on its own volume" >&2
        exit 1
    }
    tenant "$env" "$path"
done

# The metrics timer: each datastore's newest snapshot per guest, every 15 minutes.
install -d -m 755 "$R"/usr/local/lib/ai-dualstack
{
    base64 -d <<<"$AIDS_TEXTFILE_B64"
    base64 -d <<<"$AIDS_METRICS_B64"
} >"$R"/usr/local/lib/ai-dualstack/pbs-metrics.sh.new
chmod 755 "$R"/usr/local/lib/ai-dualstack/pbs-metrics.sh.new
mv "$R"/usr/local/lib/ai-dualstack/pbs-metrics.sh.new "$R"/usr/local/lib/ai-dualstack/pbs-metrics.sh
cat >"$R"/etc/systemd/system/aids-pbs-metrics.service <<UNIT
[Unit]
Description=Backup metrics of the PBS datastores (ai-dualstack)
[Service]
Type=oneshot
Environment=AIDS_DATASTORES="${AIDS_DATASTORES}" AIDS_MAX_AGE_HOURS=${AIDS_MAX_AGE_HOURS}
ExecStart=/usr/local/lib/ai-dualstack/pbs-metrics.sh
UNIT
cat >"$R"/etc/systemd/system/aids-pbs-metrics.timer <<UNIT
[Unit]
Description=Backup metrics of the PBS datastores, every 15 minutes (ai-dualstack)
[Timer]
OnCalendar=*:0/15
Persistent=true
[Install]
WantedBy=timers.target
UNIT
systemctl daemon-reload
systemctl enable --now aids-pbs-metrics.timer >/dev/null

"$mgr" cert info | sed -n 's/^Fingerprint (sha256): *//p'
