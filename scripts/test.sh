#!/usr/bin/env bash
# The whole test suite: generated code is fresh, Swift tests (unit, gRPC layer, integration),
# then the Python interop tests against the real binaries, for the debug and the release build.
# Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh

echo "== generated code is up to date"
./make_grpc.sh
if ! git diff --quiet -- Generated || [ -n "$(git status --porcelain -- Generated)" ]; then
  echo "Generated/ is stale: run ./make_grpc.sh and commit the result" >&2
  git status --short -- Generated >&2
  exit 1
fi

echo "== python peers"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -r Tests/interop/requirements.txt

echo "== servers the tests need"
# nats-server and mosquitto are started by the tests that need them, on free ports.
source scripts/postgres-for-tests.sh

# Debug first (assertions on), then release: the binary users run is built -O, and -O has
# miscompiled code here before. MM_TEST_CONFIGURATIONS=debug runs one of them while iterating.
for configuration in ${MM_TEST_CONFIGURATIONS:-debug release}; do
  echo "== swift tests ($configuration)"
  swift build -c "$configuration" --build-tests
  swift test -c "$configuration" --skip-build

  echo "== fuzz seed corpora replayed through the $configuration build"
  for target in request-decoding json sse http-invoke jwt; do
    MM_FUZZ_TARGET=$target ".build/$configuration/model-manager-fuzz" Fuzz/corpus/$target/*
  done

  echo "== interop tests against the $configuration binary"
  MODEL_MANAGER_BIN="$PWD/.build/$configuration/model-manager" MODEL_MANAGER_EXAMPLES_BIN="$PWD/.build/$configuration/client-examples" \
    .venv/bin/python -m pytest Tests/interop -q
done
