# register_bouncer STAMP: the node's bouncer key in CrowdSec's local API, registered once and again
# when serviceSecrets holds a new one (STAMP keeps the key's sha256). Prepended to crowdsec-setup.sh.
# The key never goes into a command's arguments, which `ps` shows to every user of the container:
# cscli takes a chosen key only as an argument (`bouncers add NAME -k KEY`, crowdsec
# cmd/crowdsec-cli/bouncers.go), and reads none from a file or the environment. The local API keeps
# only the key's SHA-512 in hex and finds the bouncer by it (pkg/apiserver/middlewares/v1/api_key.go,
# HashSHA512), so cscli registers the bouncer with a key it generates (printed, and dropped), and
# sqlite3 then stores our key's hash in its place: the statement on sqlite3's stdin, the hash made
# by sha512sum from its stdin.
# Inputs: AIDS_CS_BOUNCER (the name), AIDS_CS_BOUNCER_KEY.
register_bouncer() {
    local stamp=$1 want hash db
    want="$(printf '%s' "$AIDS_CS_BOUNCER_KEY" | sha256sum | cut -d' ' -f1)"
    [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]] || return 0
    echo "ai-dualstack crowdsec: registering bouncer $AIDS_CS_BOUNCER"
    hash="$(printf '%s' "$AIDS_CS_BOUNCER_KEY" | sha512sum | cut -d' ' -f1)"
    db="$(cscli --error config show --key Config.DbConfig.DbPath)"
    cscli --error bouncers delete "$AIDS_CS_BOUNCER" >/dev/null 2>&1 || true
    cscli --error bouncers add "$AIDS_CS_BOUNCER" -o raw >/dev/null
    # CrowdSec, restarted just before, may still hold the database's write lock: sqlite3 waits up to 30 s for
    # it (.timeout) instead of failing at once with "database is locked" (seen on a booted Debian 13 in CI).
    [[ "$(sqlite3 "$db" <<<".timeout 30000
UPDATE bouncers SET api_key = '$hash' WHERE name = '$AIDS_CS_BOUNCER'; SELECT changes();")" == 1 ]] || {
        echo "ai-dualstack crowdsec: the key of bouncer $AIDS_CS_BOUNCER could not be stored in $db" >&2
        exit 1
    }
    printf '%s\n' "$want" >"$stamp"
}
