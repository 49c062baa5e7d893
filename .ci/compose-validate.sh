#!/usr/bin/env bash
# Builds compose-validate (.ci/compose-validate: the Compose Specification's reference loader,
# compose-go, as `docker compose config` uses it) from the Go module proxy, once per source
# change, into ~/.cache/ai-dualstack/compose-validate-<hash>/bin, and prints that dir.
# Usage: .ci/compose-validate.sh [--help]
set -euo pipefail
# shellcheck source=.ci/cache.sh
source "$(dirname "$0")/cache.sh"
help_or_continue "$0" "$@"
src="$(cd "$(dirname "$0")/compose-validate" && pwd)"
hash="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)"
cached_bin "compose-validate-${hash}" compose-validate
needs_go compose-validate
echo "compose-validate: building from the module proxy (compose-go, about a minute)" >&2
(cd "$src" && go build -mod=readonly -trimpath -o "$BIN/compose-validate.tmp" .)
mv "$BIN/compose-validate.tmp" "$BIN/compose-validate"
echo "$BIN"
