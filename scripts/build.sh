#!/usr/bin/env bash
# Configures and builds sigprop (Release) into ./build. Extra arguments go to cmake's configure
# step; SIGPROP_TARGET=sigprop builds only the command-line tool.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
echo "[sigprop] configuring (Release) in build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
echo "[sigprop] building with $jobs jobs"
cmake --build build -j "$jobs" ${SIGPROP_TARGET:+--target "$SIGPROP_TARGET"}
