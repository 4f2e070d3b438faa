#!/usr/bin/env bash
# Our OpenAI-compatible /v1/chat/completions as the shared gateway harness's extra gateway
# (EXTRA_GW_*): the harness's own model-manager configuration (the fake-gpt aliases over its
# fake upstream) on a fresh durable SQLite ledger. The harness sets BENCH_UPSTREAM and
# BENCH_GW_PORT; MM_BIN and MM_COMPAT_SECRET come from bench-compatible.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d /tmp/mm-compatible-XXXXXX)
sed "s#@UPSTREAM@#$BENCH_UPSTREAM#g" "$here/../../../shared/bench/gateway/mm/config.json.in" > "$scratch/config.json"
exec env MODEL_MANAGER_SERVER_JWT_SECRET_KEY="$MM_COMPAT_SECRET" "$MM_BIN" serve --config "$scratch/config.json" \
    --http-address "127.0.0.1:$BENCH_GW_PORT" --grpc-address 127.0.0.1:0 --database "$scratch/ledger.sqlite" \
    --log-level "${MM_LOG_LEVEL:-info}"
