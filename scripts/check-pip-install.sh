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
"$work/venv/bin/python" -m pip install -q -r requirements.txt
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
