#!/usr/bin/env bash
# Installs the Debian packages sigprop needs. Idempotent: skips apt when all are present.
set -euo pipefail
pkgs=(build-essential cmake libtorch-dev libopenblas0-openmp libblas-dev libtcmalloc-minimal4 libcli11-dev libtomlplusplus-dev
      nlohmann-json3-dev libfmt-dev libspdlog-dev libgtest-dev gnuplot-nox
      zlib1g-dev python3-torch bible-kjv dataset-fashion-mnist
      pybind11-dev python3-dev python3-pytest python3-numpy python3-pandas python3-matplotlib
      python3-torchvision clang libclang-rt-14-dev libgloo-dev slurm-wlm munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[sigprop] all Debian packages present"
  exit 0
fi
echo "[sigprop] installing: ${missing[*]}"
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
