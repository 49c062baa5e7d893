#!/usr/bin/env bash
# The GPU bench, on a GPU machine with no Node, Go or network (see docs/gpu-bench.md): builds Ollama's
# CUDA backend for this card, then runs the throughput gate on random-weights F16 models with the staged
# Node (bench/gpu/bench.ts) and writes DIR/gpu-bench-report.json. --cpu: the dry run, no CUDA build.
# Usage: bash bench/gpu/run.sh --out DIR [--cpu] [--stage DIR] [--work DIR] [-- bench options, see --help]
set -euo pipefail
STARTED=$(date +%s)
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-}" STAGE="$ROOT/dist/gpu-bench" WORK="" CPU=() BENCH=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) OUT="${2:?--out needs a folder}"; shift 2 ;;
        --stage) STAGE="${2:?--stage needs a folder}"; shift 2 ;;
        --work) WORK="${2:?--work needs a folder}"; shift 2 ;;
        --cpu) CPU=(--cpu); shift ;;
        --) shift; BENCH=("$@"); break ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ -n "$OUT" ]] || { echo "run.sh: --out DIR is required (such as --out ./gpu-bench-out)" >&2; exit 2; }
[[ -f "$STAGE/node.tar.xz" ]] || {
    echo "run.sh: nothing staged in $STAGE: run bash bench/gpu/stage.sh first (docs/gpu-bench.md), and bring dist/gpu-bench to this machine" >&2
    exit 2
}
mkdir -p "$OUT"
WORK="${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/gpu-bench.XXXXXX")}"
mkdir -p "$WORK/tmp"
trap 'rm -rf "$WORK"' EXIT
log() { printf '[%3d s] %s\n' $(($(date +%s) - STARTED)) "$*"; }

unpack() {
    python3 - "$1" "$2" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    try:
        t.extractall(sys.argv[2], filter="data")
    except TypeError:  # a Python without extraction filters
        t.extractall(sys.argv[2])
PY
}
log "unpacking $STAGE into $WORK"
unpack "$STAGE/ollama.tar.xz" "$WORK/ollama"
unpack "$STAGE/node.tar.xz" "$WORK/node"
cp -r "$STAGE/js" "$WORK/js" # outside the repository: only the staged node_modules resolve

build_seconds=0
if [[ ${#CPU[@]} -eq 0 ]]; then
    nvcc="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
    arch="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')"
    log "building the CUDA backend for sm_$arch with $nvcc ($(nproc) jobs; log in \$OUT/cuda-build.log)"
    unpack "$STAGE/ollama-src.tar.xz" "$WORK/src"
    start=$(date +%s)
    {
        CUDACXX="$nvcc" cmake -S "$WORK/src" -B "$WORK/build" -G Ninja \
            -DCMAKE_CUDA_ARCHITECTURES="$arch" -DGGML_CCACHE=OFF &&
            cmake --build "$WORK/build" --target ggml-cuda ggml-base -j "$(nproc)"
    } >"$OUT/cuda-build.log" 2>&1 || { tail -30 "$OUT/cuda-build.log"; exit 1; }
    build_seconds=$(($(date +%s) - start))
    # The layout the Go binary looks for beside bin/: lib/ollama, and the CUDA runner in cuda_v12
    # (v0.11.4's name for any driver from CUDA 12.1 on, 13 included) with the toolkit's runtime.
    lib="$WORK/ollama/lib/ollama"
    mkdir -p "$lib/cuda_v12"
    find "$WORK/build" -name 'libggml-base.so*' -exec cp -P {} "$lib/" \;
    find "$WORK/build" -name 'libggml-cuda.so*' -exec cp -P {} "$lib/cuda_v12/" \;
    cuda_lib="$(dirname "$(dirname "$(readlink -f "$nvcc")")")/lib64"
    cp -P "$cuda_lib"/libcudart.so* "$cuda_lib"/libcublas.so* "$cuda_lib"/libcublasLt.so* "$lib/cuda_v12/"
    log "built in $build_seconds s: $(find "$lib" -name 'libggml-*.so' -printf '%f ' | sort)"
fi

log "measuring"
rc=0
TMPDIR="$WORK/tmp" "$WORK/node/bin/node" "$WORK/js/bench/gpu/bench.js" --ollama "$WORK/ollama/bin/ollama" \
    --out "$OUT" "${CPU[@]}" --build-seconds "$build_seconds" --started-at "$STARTED" "${BENCH[@]}" || rc=$?
log "done (exit $rc): $OUT/gpu-bench-report.json"
exit "$rc"
