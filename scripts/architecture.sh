#!/usr/bin/env bash
# Regenerates docs/architecture.md's layer graph from CMake's own view of the targets
# (cmake --graphviz), so the drawing cannot drift from the build. Run after adding a layer.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cmake -S . -B build --graphviz="$dir/sigprop.dot" >/dev/null
python3 scripts/architecture.py "$dir/sigprop.dot" docs/architecture.md
echo "[sigprop] wrote docs/architecture.md"
