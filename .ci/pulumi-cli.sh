#!/usr/bin/env bash
# Builds the real Pulumi CLI at the SDK's version from the Go module proxy, once per machine, into
# ~/.cache/ai-dualstack/pulumi-<version>/bin, and prints that dir. (The Node.js language host is a
# module of its own that the proxy here does not serve, so programs run under the mock runtime.)
# Usage: .ci/pulumi-cli.sh [--help]
set -euo pipefail
# shellcheck source=.ci/cache.sh
source "$(dirname "$0")/cache.sh"
help_or_continue "$0" "$@"

VERSION="v3.248.0"
cached_bin "pulumi-${VERSION}" pulumi
needs_go pulumi-cli
log() { echo "pulumi-cli: $*" >&2; }
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

moddir() { go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }
log "downloading github.com/pulumi/pulumi/{pkg,sdk}/v3@${VERSION} from the module proxy"
cp -r "$(moddir "github.com/pulumi/pulumi/pkg/v3@${VERSION}")" "$work/pkg"
cp -r "$(moddir "github.com/pulumi/pulumi/sdk/v3@${VERSION}")" "$work/sdk"
chmod -R u+w "$work"

ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${VERSION}"
log "building pulumi (several minutes on two cores)"
(cd "$work/pkg" && go build -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$BIN/pulumi.tmp" ./cmd/pulumi)
mv "$BIN/pulumi.tmp" "$BIN/pulumi"
echo "$BIN"
