#!/usr/bin/env bash
# The pinned Open WebUI (the image tag in Pulumi.private.yaml) from PyPI in a virtualenv, once per machine, in
# ~/.cache/ai-dualstack/webui-<version>-<hash of this script> (printed): about 7 GB, several minutes cold, for
# `npm run test:webui`. With --check it builds nothing: prints the folder when it is ready, fails otherwise.
# Usage: .ci/webui.sh [--check|--help]
set -euo pipefail
# shellcheck source=.ci/cache.sh
source "$(dirname "$0")/cache.sh"
help_or_continue "$0" "$@"
log() { echo "webui: $*" >&2; }

# One version in one place: the private stack's image tag (the release's PyPI version is the tag without "v").
VERSION="$(grep -o 'ghcr\.io/open-webui/open-webui:v[0-9][0-9.]*' "$(dirname "$0")/../Pulumi.private.yaml" | head -1)"
VERSION="${VERSION##*:v}"
[[ -n "$VERSION" ]] || { log "no ghcr.io/open-webui/open-webui:v<version> image in Pulumi.private.yaml"; exit 1; }
CACHE="${AIDS_CACHE:-$HOME/.cache/ai-dualstack}"
DIR="$CACHE/webui-$VERSION-$(sha256sum "$0" | cut -c1-12)"
if [[ -f "$DIR/ready" ]]; then
    echo "$DIR"
    exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
    log "no warm virtualenv at $DIR (run .ci/webui.sh to build it)"
    exit 1
fi
command -v python3 >/dev/null || { log "needs python3 (with venv and pip)"; exit 1; }

mkdir -p "$CACHE"
exec 9>"$CACHE/webui.lock"
flock 9
if [[ -f "$DIR/ready" ]]; then # built by the run that held the lock
    echo "$DIR"
    exit 0
fi
# Built in place (its console scripts name the folder); the ready marker, written last, tells a complete one.
rm -rf "$DIR"
log "virtualenv with open-webui==$VERSION from PyPI (about 7 GB, 4-5 minutes cold)"
python3 -m venv "$DIR/venv"
"$DIR/venv/bin/pip" install --quiet --disable-pip-version-check "open-webui==$VERSION"
# The image installs the backend's whole requirements; the wheel keeps the optional back ends in its extra "all".
# The private stack's environment uses two of them: VECTOR_DB=qdrant (qdrant-client) and DATABASE_URL
# postgresql:// (psycopg2 for the synchronous engine): installed at the wheel's own pins, from its metadata.
mapfile -t extras < <("$DIR/venv/bin/python" - <<'PY'
import importlib.metadata, re
for req in importlib.metadata.requires("open-webui"):
    name = re.split(r"[ =<>;\[]", req)[0].lower()
    if name in ("qdrant-client", "psycopg2-binary") and "extra == 'all'" in req:
        print(req.split(";")[0].strip())
PY
)
[[ ${#extras[@]} -eq 2 ]] || { log "open-webui==$VERSION's extra \"all\" pins no qdrant-client and psycopg2-binary"; exit 1; }
log "and ${extras[*]}"
"$DIR/venv/bin/pip" install --quiet --disable-pip-version-check "${extras[@]}"
touch "$DIR/ready"
# Older versions' or scripts' folders are 7 GB each and nothing reads them any more.
find "$CACHE" -maxdepth 1 -name 'webui-*' -type d ! -path "$DIR" -exec rm -rf {} +
echo "$DIR"
