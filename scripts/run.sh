#!/usr/bin/env bash
# Builds and runs the server on its embedded defaults: `scripts/run.sh [serve options]`,
# e.g. `scripts/run.sh --demo`. Needs MODEL_MANAGER_SERVER_JWT_SECRET_KEY.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh
swift build -c release --product model-manager >&2
exec .build/release/model-manager serve "$@"
