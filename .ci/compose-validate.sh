#!/usr/bin/env bash
# Builds compose-validate (.ci/compose-validate: the Compose Specification's reference loader,
# compose-go, as `docker compose config` uses it) from the Go module proxy, once per source
# change, into ~/.cache/ai-dualstack/compose-validate-<hash>/bin, and prints that dir.
# Usage: .ci/compose-validate.sh [--help]
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
src="$(cd "$(dirname "$0")/compose-validate" && pwd)"
hash="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)"
BIN="${AIDS_CACHE:-$HOME/.cache/ai-dualstack}/compose-validate-${hash}/bin"
if [[ -x "$BIN/compose-validate" ]]; then
    echo "$BIN"
    exit 0
fi
command -v go >/dev/null || { echo "compose-validate: needs Go (https://go.dev/dl/)" >&2; exit 1; }
echo "compose-validate: building from the module proxy (compose-go, about a minute)" >&2
mkdir -p "$BIN"
(cd "$src" && go build -mod=readonly -trimpath -o "$BIN/compose-validate.tmp" .)
mv "$BIN/compose-validate.tmp" "$BIN/compose-validate"
echo "$BIN"
