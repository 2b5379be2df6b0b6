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
# `import sigprop` from any folder: a .pth file in /usr/bin/python3's user site-packages names
# build/python (where the extension and the package's .py files are).
if ls build/python/sigprop/_sigprop*.so >/dev/null 2>&1; then
  site=$(/usr/bin/python3 -m site --user-site)
  mkdir -p "$site"
  echo "$PWD/build/python" > "$site/sigprop.pth"
  echo "[sigprop] Python front: import sigprop (via $site/sigprop.pth)"
fi
