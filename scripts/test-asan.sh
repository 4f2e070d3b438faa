#!/usr/bin/env bash
# The gRPC layer's tests under AddressSanitizer (LeakSanitizer included), in their own build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
swift build --build-tests --sanitize=address --scratch-path .build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp \
  swift test --skip-build --sanitize=address --scratch-path .build-asan --filter ModelManagerGRPCTests
