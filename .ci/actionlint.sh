#!/usr/bin/env bash
# Builds actionlint (GitHub Actions workflow checker; it runs shellcheck on each `run:` script) from
# the Go module proxy, once per machine, into ~/.cache/ai-dualstack/actionlint-<version>/bin, and
# prints that dir.
# Usage: .ci/actionlint.sh [--help]
set -euo pipefail
# shellcheck source=.ci/cache.sh
source "$(dirname "$0")/cache.sh"
help_or_continue "$0" "$@"

VERSION="v1.7.12"
cached_bin "actionlint-${VERSION}" actionlint
needs_go actionlint
echo "actionlint: building github.com/rhysd/actionlint@${VERSION} from the module proxy" >&2
GOBIN="$BIN" go install "github.com/rhysd/actionlint/cmd/actionlint@${VERSION}"
echo "$BIN"
