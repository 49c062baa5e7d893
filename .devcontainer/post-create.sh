#!/usr/bin/env bash
# Sets up a dev container for ai-dualstack: the Debian validators the tests call, the npm
# packages, and compose-validate on PATH (built once into ~/.cache/ai-dualstack).
set -euo pipefail
sudo apt-get update -qq
sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck cloud-init >/dev/null
npm ci --no-audit --no-fund
bin="$(bash .ci/compose-validate.sh)"
echo "export PATH=\"$bin:\$PATH\"" >>"$HOME/.bashrc"
echo "ai-dualstack: ready. Try: npm run plan -- private && npm test"
