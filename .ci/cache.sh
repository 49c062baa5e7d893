# shellcheck shell=bash
# Sourced by the .ci/*.sh builders: --help from a script's header, and the per-machine cache of
# built tools (~/.cache/ai-dualstack/<name>/bin, or $AIDS_CACHE) that makes a second run instant.

# help_or_continue "$0" "$@": prints lines 2-5 of the script without "# " and exits, on -h/--help.
help_or_continue() {
    local script="$1"
    shift
    if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
        sed -n '2,5p' "$script" | sed 's/^# \{0,1\}//'
        exit 0
    fi
}

# cached_bin NAME TOOL: sets BIN to the cache folder of NAME; when TOOL is already built there,
# prints the folder and exits.
cached_bin() {
    BIN="${AIDS_CACHE:-$HOME/.cache/ai-dualstack}/$1/bin"
    if [[ -x "$BIN/$2" ]]; then
        echo "$BIN"
        exit 0
    fi
    mkdir -p "$BIN"
}

# needs_go LABEL: fails with a hint when Go is missing.
needs_go() {
    command -v go >/dev/null || { echo "$1: needs Go (https://go.dev/dl/)" >&2; exit 1; }
}
