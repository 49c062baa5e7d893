#!/usr/bin/env bash
# Builds a real Ollama server (CPU backend) from its Go module, once per machine, into
# ~/.cache/ai-dualstack/ollama-<version>/bin, and prints that dir. v0.11.4 is the last release whose
# llama.cpp backend compiles with plain cgo from the module zip (later ones fetch sources at build time).
# Usage: .ci/ollama.sh [--help]
set -euo pipefail
# shellcheck source=.ci/cache.sh
source "$(dirname "$0")/cache.sh"
help_or_continue "$0" "$@"

VERSION="v0.11.4"
cached_bin "ollama-${VERSION}" ollama
needs_go ollama
log() { echo "ollama: $*" >&2; }
command -v g++ >/dev/null || { log "needs a C++ compiler for the cgo backend (apt-get install g++)"; exit 1; }

log "building github.com/ollama/ollama@${VERSION} (CPU backend, several minutes on two cores)"
GOBIN="$BIN.tmp" CGO_ENABLED=1 go install -ldflags "-X github.com/ollama/ollama/version.Version=${VERSION#v}" \
    "github.com/ollama/ollama@${VERSION}"
mv "$BIN.tmp/ollama" "$BIN/ollama"
rmdir "$BIN.tmp"
echo "$BIN"
