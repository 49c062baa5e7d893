#!/usr/bin/env bash
# Builds a real Ollama server (CPU backend) from its Go module, once per machine, into
# ~/.cache/ai-dualstack/ollama-<version>/bin, and prints that dir. v0.11.4 is the last release whose
# llama.cpp backend compiles with plain cgo from the module zip (later ones fetch sources at build time).
# Usage: .ci/ollama.sh [--help]
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi

VERSION="v0.11.4"
CACHE="${AIDS_CACHE:-$HOME/.cache/ai-dualstack}/ollama-${VERSION}"
BIN="$CACHE/bin"
if [[ -x "$BIN/ollama" ]]; then
    echo "$BIN"
    exit 0
fi

log() { echo "ollama: $*" >&2; }
command -v go >/dev/null || { log "needs Go (https://go.dev/dl/)"; exit 1; }
command -v g++ >/dev/null || { log "needs a C++ compiler for the cgo backend (apt-get install g++)"; exit 1; }

mkdir -p "$BIN"
log "building github.com/ollama/ollama@${VERSION} (CPU backend, several minutes on two cores)"
GOBIN="$BIN.tmp" CGO_ENABLED=1 go install -ldflags "-X github.com/ollama/ollama/version.Version=${VERSION#v}" \
    "github.com/ollama/ollama@${VERSION}"
mv "$BIN.tmp/ollama" "$BIN/ollama"
rmdir "$BIN.tmp"
echo "$BIN"
