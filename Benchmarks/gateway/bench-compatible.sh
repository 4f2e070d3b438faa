#!/usr/bin/env bash
# Runs the shared gateway harness with our /v1/chat/completions as its extra OpenAI-compatible
# gateway ("mm-openai"), beside LiteLLM's and our native faces, in one run. From the project's
# root, after `swift build -c release --product model-manager`; harness knobs pass through
# (MM_MODES=durable, SKIP_INSTALL=1, …).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export MM_BIN=${MM_BIN:-$root/.build/release/model-manager}
export MM_COMPAT_SECRET=${MM_COMPAT_SECRET:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}
export EXTRA_GW_NAME=mm-openai
export EXTRA_GW_START="$root/Benchmarks/gateway/compatible-gateway.sh"
export EXTRA_GW_KEY=$("$MM_BIN" token --secret "$MM_COMPAT_SECRET" --ttl 86400 --org-id bench-org --user-id bench-user-1)
cd "$root"
exec ../shared/bench/gateway/run.sh "$@"
