#!/usr/bin/env bash
# libFuzzer (with AddressSanitizer) on one target, starting from its committed seed corpus:
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer options…]
# Targets: request-decoding, json, sse, http-invoke, jwt (Fuzz/model-manager-fuzz). New inputs
# go to a scratch corpus, not the tree; a crash leaves its input in .build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options]}
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : $# ))
[ -d "Fuzz/corpus/$target" ] || { echo "unknown target '$target' (see Fuzz/corpus/)" >&2; exit 2; }
scripts/install-system-packages.sh
swift build -c release --product model-manager-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DMM_FUZZING -Xswiftc -g >&2
scratch=$(mktemp -d /tmp/mm-fuzz-corpus.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p .build-fuzz/crashes
MM_FUZZ_TARGET="$target" .build-fuzz/release/model-manager-fuzz "$scratch" "Fuzz/corpus/$target" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix=".build-fuzz/crashes/$target-" "$@"
