#!/usr/bin/env bash
# Builds the real engine's parts the e2e tests need from ../shared/toolchain, once per machine: a bin folder holding
# the Pulumi CLI (a link to .ci/pulumi-cli.sh's), the Node.js language host and the dynamic-provider and policy shims;
# and the command and proxmoxve providers, installed into $AIDS_CACHE/pulumi-home. Prints `export
# AIDS_PULUMI_TOOLCHAIN=<bin> AIDS_PULUMI_HOME=<home>` for eval (or a user's own). Usage: eval "$(.ci/pulumi-toolchain.sh)"
set -euo pipefail
# shellcheck source=.ci/cache.sh
source "$(dirname "$0")/cache.sh"
help_or_continue "$0" "$@"

REPO="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$REPO/../shared/toolchain"
CACHE="${AIDS_CACHE:-$HOME/.cache/ai-dualstack}"
SDK_VERSION="v3.248.0"
COMMAND_VERSION="1.2.1"
# The only proxmoxve source reachable here is 8.3.0-18-g53937ed1, built as what it is (GetPluginInfo says 8.3.0).
# The npm SDK 8.6.0 asks the engine for exactly 8.6.0, and the plugin cache finds plugins by the version they are
# installed under, so it is installed as 8.6.0; the engine then warns on each run that the "resource plugin
# proxmoxve is expected to have version >=8.6.0, but has 8.3.0". Installed as 8.3.0 it is never found.
PROXMOXVE_VERSION="8.3.0"
PROXMOXVE_SDK_VERSION="8.6.0"
log() { echo "pulumi-toolchain: $*" >&2; }
# emit BIN_DIR HOME: what the e2e tests run with (testing/engineToolchain.ts reads both).
emit() { printf 'export AIDS_PULUMI_TOOLCHAIN=%q\nexport AIDS_PULUMI_HOME=%q\n' "$1" "$2"; }

# A user's own install: pulumi on PATH with its language host beside it, both providers in their plugin cache.
has_plugin() { tr -d ' \n' <<<"$plugins" | grep -q "\"name\":\"$1\",\"kind\":\"resource\",\"version\":\"$2\""; }
if command -v pulumi >/dev/null && [[ -x "$(dirname "$(command -v pulumi)")/pulumi-language-nodejs" ]] &&
    plugins="$(pulumi plugin ls --json 2>/dev/null)" &&
    has_plugin command "$COMMAND_VERSION" && has_plugin proxmoxve "$PROXMOXVE_SDK_VERSION"; then
    log "using $(command -v pulumi) and the command and proxmoxve plugins already installed; nothing built"
    emit "$(dirname "$(command -v pulumi)")" "${PULUMI_HOME:-$HOME/.pulumi}"
    exit 0
fi

needs_go pulumi-toolchain
[[ -d "$SRC" ]] || { log "no sources at $SRC (shared/ beside the repo)"; exit 1; }
node_sdk="$REPO/node_modules/@pulumi/pulumi"
[[ -f "$node_sdk/package.json" ]] || { log "no $node_sdk: run npm ci first"; exit 1; }
cli="${AIDS_PULUMI_BIN:-$(bash "$REPO/.ci/pulumi-cli.sh")/pulumi}"
# The language host goes beside a CLI of its own: beside .ci/pulumi-cli.sh's, it would change what plain
# `pulumi preview` does for tests/tools/engineConfig.live.test.ts (and for anyone else using that CLI).
cli_dir="$CACHE/pulumi-toolchain-${SDK_VERSION}/bin"
pulumi="$cli_dir/pulumi"
home="$CACHE/pulumi-home"
mkdir -p "$cli_dir" "$home"
ln -f "$cli" "$pulumi" 2>/dev/null || cp "$cli" "$pulumi"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# copy_source NAME: a writable copy of $SRC/NAME in the work dir (CI's shared/ is read-only), printed.
copy_source() {
    cp -r "$SRC/$1" "$work/$1"
    chmod -R u+w "$work/$1"
    echo "$work/$1"
}

# timed LABEL OUT DIR ARGS...: runs `go build -o OUT.tmp ARGS` in DIR and logs how long it took.
timed() {
    local label="$1" out="$2" dir="$3" start="$SECONDS"
    shift 3
    log "building $label (minutes on two cores)"
    (cd "$dir" && go build -o "$out.tmp" "$@")
    mv "$out.tmp" "$out"
    log "built $label in $((SECONDS - start)) s"
}

language_host() {
    local out="$cli_dir/pulumi-language-nodejs"
    if [[ -x "$out" ]]; then
        log "pulumi-language-nodejs ${SDK_VERSION}: already built"
    else
        local dir
        dir="$(copy_source pulumi-language-nodejs)"
        (cd "$dir" && go mod edit -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
            -require "github.com/pulumi/pulumi/pkg/v3@${SDK_VERSION}" -require "github.com/pulumi/pulumi/sdk/v3@${SDK_VERSION}")
        timed "pulumi-language-nodejs ${SDK_VERSION}" "$out" "$dir" -mod=mod \
            -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${SDK_VERSION}" .
    fi
    # Bundled plugins count as such beside the CLI: dynamic providers (the SDK's own shim), and, for runs without
    # the language host, Node.js policy packs: the engine then starts pulumi-analyzer-policy-nodejs in the pack's
    # folder with `<engine address> . [-opt=val]`. The SDK ships no such shim any more, so it is written here.
    cp "$node_sdk/pulumi-resource-pulumi-nodejs" "$cli_dir/"
    printf '%s\n' '#!/bin/sh' \
        '# Runs a Node.js policy pack with the @pulumi/pulumi its folder resolves (see .ci/pulumi-toolchain.sh).' \
        "exec node \"\$(node -e \"console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))\")\" \"\$@\"" \
        >"$cli_dir/pulumi-analyzer-policy-nodejs"
    chmod 755 "$cli_dir/pulumi-resource-pulumi-nodejs" "$cli_dir/pulumi-analyzer-policy-nodejs"
}

# provider NAME VERSION AS LDFLAG_VAR [go mod edit args...]: builds pulumi-resource-NAME VERSION from
# $SRC/pulumi-NAME/provider into the cache once, and installs it into $home as version AS once.
provider() {
    local name="$1" version="$2" as="$3" var="$4"
    shift 4
    local bin="$CACHE/pulumi-resource-${name}-${version}/bin/pulumi-resource-${name}"
    if [[ -x "$bin" ]]; then
        log "pulumi-resource-${name} ${version}: already built"
    else
        mkdir -p "$(dirname "$bin")"
        local dir
        dir="$(copy_source "pulumi-${name}")/provider"
        [[ $# -eq 0 ]] || (cd "$dir" && go mod edit "$@")
        timed "pulumi-resource-${name} ${version}" "$bin" "$dir" -ldflags "-X ${var}=${version}" \
            "./cmd/pulumi-resource-${name}"
    fi
    if [[ -x "$home/plugins/resource-${name}-v${as}/pulumi-resource-${name}" ]]; then
        log "resource plugin ${name} ${as}: already installed in $home"
    else
        PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=true "$pulumi" plugin install resource "$name" "$as" \
            --file "$bin" >&2
    fi
}

language_host
provider command "$COMMAND_VERSION" "$COMMAND_VERSION" github.com/pulumi/pulumi-command/provider/pkg/version.Version
cp -r "$SRC/stubs" "$work/stubs"
provider proxmoxve "$PROXMOXVE_VERSION" "$PROXMOXVE_SDK_VERSION" github.com/muhlba91/pulumi-proxmoxve/provider/pkg/version.Version \
    -replace "github.com/pulumi/pulumi-yaml=$work/stubs/pulumi-yaml" \
    -replace "github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3=$work/stubs/pulumi-language-dotnet"
log "CLI, language host and shims in $cli_dir; plugins in $home"
emit "$cli_dir" "$home"
