#!/usr/bin/env bash
# Configures and builds sigprop (Release, Ninja) into ./build against the torch of the project's
# environment .venv (scripts/install-deps.sh). Extra arguments go to cmake's configure step;
# SIGPROP_TARGET=sigprop builds only the command-line tool.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
echo "[sigprop] configuring (Release) in build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
echo "[sigprop] building with $jobs jobs"
cmake --build build -j "$jobs" ${SIGPROP_TARGET:+--target "$SIGPROP_TARGET"}
# `import sigprop` from .venv's Python, from any folder: a .pth in its site-packages names
# build/python (the extension and the package's .py files). `pip install` is the other way in.
if ls build/python/sigprop/_sigprop*.so >/dev/null 2>&1; then
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$PWD/build/python" > "$site/sigprop-build.pth"
  echo "[sigprop] Python front: .venv/bin/python -c 'import sigprop' (via $site/sigprop-build.pth)"
fi
