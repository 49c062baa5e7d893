# Shared by the monitoring set-ups (prepended to each): pinned Debian packages and managed files.
# put_file PATH MODE OWNER BASE64 writes a file only when its content differs, puts its mode and owner
# back when they differ, and records PATH in changed_files when it did either; ensure_pkg NAME VERSION installs exactly that version (Grafana, from its own repository),
# and holds nothing: a hold keeps security updates out (a hold an earlier set-up left is released).
# AIDS_ROOT (environment; tests only) prefixes every path so the scripts run in a sandbox.
R="${AIDS_ROOT:-}"
changed_files=()
apt_updated=0

put_file() {
    local path="$1" mode="$2" owner="$3" content
    content="$(printf '%s' "$4" | base64 -d)"
    if [[ -f "$R$path" && "$(cat "$R$path")" == "$content" ]]; then
        put_attrs "$path" "$mode" "$owner"
        return 0
    fi
    mkdir -p "$(dirname "$R$path")"
    [[ -f "$R$path" ]] && cp -p "$R$path" "$R$path.aids-previous"
    (umask 077 && printf '%s\n' "$content" >"$R$path.aids-new")
    chmod "$mode" "$R$path.aids-new"
    chown "$owner" "$R$path.aids-new" 2>/dev/null || true
    mv "$R$path.aids-new" "$R$path"
    changed "$path" || changed_files+=("$path")
}

# put_attrs PATH MODE OWNER: an unchanged file's mode and owner, put back when they differ (the previous
# file kept for roll_back). An owner that does not exist yet (Grafana's group before Grafana is
# installed) is left for a later run, as a chown here refused is.
put_attrs() {
    local path="$1" mode="$2" owner="$3" was
    was="$(stat -c '%a %U:%G' "$R$path")"
    [[ "$was" != "$(printf '%o' "$((8#$mode))") $owner" ]] || return 0
    if ! id -u "${owner%%:*}" >/dev/null 2>&1 || ! getent group "${owner#*:}" >/dev/null; then
        return 0
    fi
    cp -p "$R$path" "$R$path.aids-previous"
    chmod "$mode" "$R$path"
    chown "$owner" "$R$path" 2>/dev/null || true
    if [[ "$(stat -c '%a %U:%G' "$R$path")" == "$was" ]]; then
        rm -f "$R$path.aids-previous"
    else
        changed "$path" || changed_files+=("$path")
    fi
}

# Puts back the files this run changed (a validator refused them) and fails.
roll_back() {
    local path
    for path in "${changed_files[@]}"; do
        if [[ -f "$R$path.aids-previous" ]]; then mv "$R$path.aids-previous" "$R$path"; else rm -f "$R$path"; fi
    done
    log "refused: $*; the previous files are back in place"
    exit 1
}

# changed PATH: this run wrote PATH, or (PATH ending in /) a file under it.
changed() {
    local want="$1" path
    for path in "${changed_files[@]}"; do
        [[ "$path" == "$want" || ("$want" == */ && "$path" == "$want"*) ]] && return 0
    done
    return 1
}

# restart UNIT PATH...: enables UNIT, restarts it when one of PATH changed, starts it when stopped.
restart() {
    local unit="$1" path
    shift
    systemctl enable --quiet "$unit"
    for path in "$@"; do
        if changed "$path"; then
            log "restarting $unit"
            systemctl restart "$unit"
            return 0
        fi
    done
    systemctl is-active --quiet "$unit" || systemctl restart "$unit"
}

ensure_pkg() {
    local name="$1" version="$2"
    if [[ "$(apt-mark showhold "$name" 2>/dev/null || true)" == "$name" ]]; then
        apt-mark unhold "$name" >/dev/null
    fi
    if [[ "$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)" == "$version" ]]; then
        return 0
    fi
    if [[ $apt_updated -eq 0 ]]; then
        apt-get update -qq
        apt_updated=1
    fi
    log "installing $name $version"
    apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends --allow-downgrades "$name=$version" >/dev/null
}
