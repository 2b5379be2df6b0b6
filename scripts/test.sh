#!/usr/bin/env bash
# Installs what is needed, builds (Release, with tests), and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh -DBUILD_TESTING=ON
echo "[sigprop] running tests"
ctest --test-dir build --output-on-failure -j "$(nproc)"
