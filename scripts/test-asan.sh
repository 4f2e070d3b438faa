#!/usr/bin/env bash
# The gRPC layer's tests under AddressSanitizer (LeakSanitizer included), in their own build folder.
# XCTest is disabled: the tests use Swift Testing, and XCTest's empty runner leaks at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
# The test bundle only: the HotPath benchmarks interpose malloc, as AddressSanitizer does.
swift build --product model-managerPackageTests --sanitize=address --scratch-path .build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
  swift test --skip-build --disable-xctest --sanitize=address --scratch-path .build-asan --filter ModelManagerGRPCTests
