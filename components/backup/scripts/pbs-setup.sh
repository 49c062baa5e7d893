# Proxmox Backup Server in the backup container, idempotently: the pinned package from Proxmox's
# no-subscription repository (key checked by its SHA-512), then per environment served a datastore on
# its own mount point, a namespace, a user with a password and DatastoreBackup on that namespace only,
# a prune job (the retention), a verify job and the GC schedule; optionally an off-site remote and a
# push sync job per datastore; and the metrics timer. Prints the certificate fingerprint last.
# Rendered with: AIDS_PBS_VERSION, AIDS_DATASTORES ("env:/path ..."), AIDS_PASSWORDS (assoc, by env),
# AIDS_KEEP (assoc, by env: "daily weekly monthly"), AIDS_GC, AIDS_PRUNE, AIDS_VERIFY (schedules),
# AIDS_OFFSITE_* (empty host: none), AIDS_METRICS_B64, AIDS_TEXTFILE_B64, AIDS_MAX_AGE_HOURS.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

KEY_URL=https://enterprise.proxmox.com/debian/proxmox-release-bookworm.gpg
KEY_SHA512=7da6fe34168adc6e479327ba517796d4702fa2f8b4f0a9833f5ea6e6b48f6507a6da403a274fe201595edc86a84463d50383d07f64bdde2e3658108db7d6dc87
KEY=/etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg
mgr=proxmox-backup-manager

install_pbs() {
    if [[ $(dpkg-query -W -f '${Version}' proxmox-backup-server 2>/dev/null || true) == "$AIDS_PBS_VERSION" ]]; then
        return 0
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ca-certificates curl python3
    if ! echo "$KEY_SHA512  $KEY" | sha512sum -c --status 2>/dev/null; then
        curl -fsSL "$KEY_URL" -o "$KEY.new"
        echo "$KEY_SHA512  $KEY.new" | sha512sum -c --status || {
            echo "pbs-setup: $KEY_URL does not match its pinned SHA-512" >&2
            exit 1
        }
        mv "$KEY.new" "$KEY"
    fi
    echo "deb http://download.proxmox.com/debian/pbs bookworm pbs-no-subscription" >/etc/apt/sources.list.d/pbs.list
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "proxmox-backup-server=$AIDS_PBS_VERSION"
    apt-mark hold proxmox-backup-server >/dev/null
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
    "$mgr" user update "$user" --password "${AIDS_PASSWORDS[$env]}"
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
    local remote=(--host "$AIDS_OFFSITE_HOST" --auth-id "$AIDS_OFFSITE_AUTH_ID" --password "$AIDS_OFFSITE_PASSWORD" --fingerprint "$AIDS_OFFSITE_FINGERPRINT")
    if has remote offsite; then
        "$mgr" remote update offsite "${remote[@]}"
    else
        "$mgr" remote create offsite "${remote[@]}"
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
install -d -m 755 /usr/local/lib/ai-dualstack
{
    base64 -d <<<"$AIDS_TEXTFILE_B64"
    base64 -d <<<"$AIDS_METRICS_B64"
} >/usr/local/lib/ai-dualstack/pbs-metrics.sh.new
chmod 755 /usr/local/lib/ai-dualstack/pbs-metrics.sh.new
mv /usr/local/lib/ai-dualstack/pbs-metrics.sh.new /usr/local/lib/ai-dualstack/pbs-metrics.sh
cat >/etc/systemd/system/aids-pbs-metrics.service <<UNIT
[Unit]
Description=Backup metrics of the PBS datastores (ai-dualstack)
[Service]
Type=oneshot
Environment=AIDS_DATASTORES="${AIDS_DATASTORES}" AIDS_MAX_AGE_HOURS=${AIDS_MAX_AGE_HOURS}
ExecStart=/usr/local/lib/ai-dualstack/pbs-metrics.sh
UNIT
cat >/etc/systemd/system/aids-pbs-metrics.timer <<UNIT
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
