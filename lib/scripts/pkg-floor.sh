# pkg_floor NAME FLOOR [PACKAGE...]: NAME (and the PACKAGEs) from the system's own Debian suite,
# installed when NAME is missing or older than FLOOR, the oldest version with what the set-up relies
# on. Exact revisions such as 1.5.0-1+b6 exist in one suite only (bookworm's are not in trixie, and
# go at bookworm's next point release), so none is asked for; and nothing is held, so the suite's
# security updates keep coming (a hold an earlier set-up left is released). Refuses, naming the
# suite, when the suite offers less than FLOOR. Returns 0 when it installed, 1 when nothing was needed.
# Prepended to the set-ups that install Debian packages (lib/scripts.ts, PKG_FLOOR).
pkg_updated=0
pkg_floor() {
    local name=$1 floor=$2 have suite
    shift 2
    if [[ "$(apt-mark showhold "$name" 2>/dev/null || true)" == "$name" ]]; then
        apt-mark unhold "$name" >/dev/null
    fi
    have="$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)"
    if [[ -n "$have" ]] && dpkg --compare-versions "$have" ge "$floor"; then
        return 1
    fi
    if [[ $pkg_updated -eq 0 ]]; then
        apt-get update -qq
        pkg_updated=1
    fi
    echo "ai-dualstack: installing $name (at least $floor) ${*:+and $*}"
    apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "$name" "$@" >/dev/null
    have="$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)"
    if [[ -z "$have" ]] || ! dpkg --compare-versions "$have" ge "$floor"; then
        suite="$(sed -n 's/^VERSION_CODENAME=//p' "${AIDS_ROOT:-}/etc/os-release" 2>/dev/null || true)"
        echo "ai-dualstack: $name ${have:-(none)} from Debian ${suite:-?} is older than $floor, the oldest version the set-up works with" >&2
        exit 1
    fi
    return 0
}
