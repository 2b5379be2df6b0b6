#!/usr/bin/env bash
# The pip route, as a user takes it: an sdist and a wheel of this checkout built with
# `--no-build-isolation` against the torch of .venv (the wheel reuses build/'s objects:
# -C build-dir=build), the wheel installed into a second, clean virtual environment that has only
# the pinned torch and the test tools, and the Python suite run there from outside the checkout,
# against the installed package and its `sigprop` console command.
#   scripts/check-pip-install.sh         (after scripts/build.sh -DBUILD_TESTING=ON; CI runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rm -rf dist
echo "[pip] sdist and wheel"
.venv/bin/python -m build --sdist --no-isolation --outdir dist . >/dev/null
.venv/bin/python -m pip wheel -q --no-build-isolation --no-deps -w dist -C build-dir=build \
  -C cmake.define.BUILD_TESTING=ON .
ls -la dist
work=$(mktemp -d /tmp/sigprop-pip.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "[pip] a clean environment in $work/venv with requirements.txt's torch, then the wheel"
"${SIGPROP_PYTHON:-python3}" -m venv "$work/venv"
# torch's CUDA runtime wheels (nvidia-*, cuda-*, triton: 3.4 GB, the same versions the pinned torch
# requires) are hard-linked from .venv, file by file as their RECORDs list them, where both sit
# on one file system: a second copy once filled a CI machine's disk (stop 37). pip sees them
# installed and resolves and installs torch and everything else afresh from PyPI.
.venv/bin/python - "$work/venv" <<'PY'
import os, sys, sysconfig
from importlib import metadata
src = sysconfig.get_paths()["purelib"]
dst = sysconfig.get_paths(vars={"base": sys.argv[1], "platbase": sys.argv[1]})["purelib"]
same_python = os.path.isdir(dst)  # the clean venv's interpreter is this one's version
if same_python and os.stat(src).st_dev == os.stat(dst).st_dev:
    for dist in metadata.distributions(path=[src]):
        if dist.metadata["Name"].lower().startswith(("nvidia-", "cuda-", "triton")):
            for f in dist.files or []:
                rel = os.path.normpath(str(f))
                if rel.startswith(".."):
                    continue  # console scripts outside site-packages: not needed to import torch
                os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
                try:
                    os.link(os.path.join(src, rel), os.path.join(dst, rel))
                except (FileNotFoundError, FileExistsError):
                    pass  # listed but never written (bytecode), or shared by two namespace wheels
PY
df -h "$work" | sed -n '2s/^/[pip] disk before the install: /p'
"$work/venv/bin/python" -m pip install -q --no-cache-dir -r requirements.txt
"$work/venv/bin/python" -m pip install -q --no-deps dist/sigprop-*.whl
cp -r tests/python tests/parity "$work/"
cd "$work"
export PATH="$work/venv/bin:$PATH" SIGPROP_DATA_DIR="$root/build/data"
unset SIGPROP_CLI PYTHONPATH
where=$(python -c 'import sigprop, os; print(os.path.dirname(sigprop.__file__))')
case $where in "$work"/venv/*) ;; *) echo "[pip] sigprop imported from $where, not the clean venv" >&2; exit 1 ;; esac
echo "[pip] import sigprop: $where; command: $(command -v sigprop) ($(sigprop --version))"
sigprop env | sed 's/^/  /'
python -m pytest -q -p no:cacheprovider python
