#!/usr/bin/env bash
# Prepares, on this (Debian) machine, what scripts/gpu-check.sh needs on a GPU machine that has
# torch, Python, CMake and ninja but no package registry: the Debian -dev packages the build uses
# (CLI11, toml++, nlohmann-json, GoogleTest, zlib), downloaded with apt-get and unpacked with
# dpkg -x into third_party/gpu-prefix/ (a few MiB, git-ignored). Carry that folder to the GPU
# machine (the device tool's `carry`), where gpu-check.sh puts it on CMAKE_PREFIX_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(libcli11-dev libtomlplusplus-dev libtomlplusplus3 nlohmann-json3-dev libgtest-dev
      zlib1g-dev)
prefix=third_party/gpu-prefix
rm -rf "$prefix" && mkdir -p "$prefix/debs"
(cd "$prefix/debs" && apt-get download "${pkgs[@]}" >/dev/null)
for deb in "$prefix"/debs/*.deb; do dpkg -x "$deb" "$prefix"; done
rm -rf "$prefix/debs" "$prefix/usr/share/doc" "$prefix/usr/share/man"
echo "[gpu-prefix] $(du -sh "$prefix" | cut -f1) in $prefix: ${pkgs[*]}"
