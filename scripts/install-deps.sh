#!/usr/bin/env bash
# Installs what sigprop needs on a fresh Debian 12 machine. Idempotent.
#  - Debian's packages for what Debian serves best (compilers, CLI11, toml++, JSON, GoogleTest,
#    gnuplot, tcmalloc, the data packages, Slurm, clang for fuzzing and sanitizers);
#  - the project's virtual environment .venv with the pinned torch from PyPI (requirements.txt):
#    its LibTorch is the one the library, the command and `import sigprop` are built against (and
#    its fmt headers, which shadow any other fmt on the include path: docs/install.md).
# SIGPROP_PYTHON names the interpreter the venv is made from (default: python3 on PATH, >= 3.10).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(build-essential cmake ninja-build libtcmalloc-minimal4 libcli11-dev libtomlplusplus-dev
      nlohmann-json3-dev libgtest-dev gnuplot-nox zlib1g-dev
      bible-kjv dataset-fashion-mnist clang libclang-rt-14-dev slurm-wlm munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[sigprop] all Debian packages present"
else
  echo "[sigprop] installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

py=${SIGPROP_PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[sigprop] making the project environment .venv ($($py --version))"
  $py -m venv .venv
fi
stamp=.venv/.sigprop-requirements
if ! cmp -s requirements.txt "$stamp"; then
  echo "[sigprop] installing requirements.txt into .venv (torch from PyPI)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --no-cache-dir -r requirements.txt
  cp requirements.txt "$stamp"
else
  echo "[sigprop] .venv up to date with requirements.txt"
fi
