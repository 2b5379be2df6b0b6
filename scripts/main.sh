#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install, build, prepare data, and run the depth
# study (post-ln, pre-ln, post-ln-scaled at depths 1..64 on King James Bible text).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
SIGPROP_TARGET=sigprop ./scripts/build.sh
./build/sigprop data prepare
echo "[sigprop] machine:"
./build/sigprop env | sed 's/^/  /'
echo "[sigprop] depth study -> runs/depth-study"
./build/sigprop probe --preset post-ln,pre-ln,post-ln-scaled --depth 1,2,4,8,16,32,64 \
  --width 128 --seq 64 --batch 8 --seeds 3 --input kjv --out runs/depth-study
./build/sigprop report runs/depth-study
echo "[sigprop] figure: runs/depth-study/probe.png (data: runs/depth-study/probe.csv)"
echo "[sigprop] report: $(pwd)/runs/depth-study/report.html"
