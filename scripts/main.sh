#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install, build, prepare data, and run the depth study
# (configs/depth-study.toml: every preset probed at depths 1..64, a short training race, the
# shaped-transformer SDE against finite networks), ending with one report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
SIGPROP_TARGET=sigprop ./scripts/build.sh
./build/sigprop data prepare
echo "[sigprop] machine:"
./build/sigprop env | sed 's/^/  /'
./build/sigprop repro configs/depth-study.toml --out runs/depth-study
echo "[sigprop] key figure: runs/depth-study/probe/probe.png (data: runs/depth-study/probe/probe.csv)"
