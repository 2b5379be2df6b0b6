#!/usr/bin/env bash
# Installs what is needed, builds (Release, with tests), runs the whole test suite (C++ and
# Python), checks the pip route (scripts/check-pip-install.sh: sdist, wheel, a clean venv, the
# Python suite against the installed package), then a short libFuzzer run of every reader of
# outside input (scripts/fuzz.sh all 20: about 5 minutes).
#   scripts/test.sh              the README's test command, and CI's
#   scripts/test.sh --sanitize   the library and the whole C++ test suite built with
#                                AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on)
#                                in build-asan/, and run there (docs/reliability.md: ~40 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
if [[ ${1:-} == --sanitize ]]; then
  flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
  echo "[sigprop] configuring the sanitizer build in build-asan/"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON -DSIGPROP_TCMALLOC=OFF \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  cmake --build build-asan -j "$(nproc)" --target sigprop sigprop_tests
  echo "[sigprop] running the C++ tests under ASan + UBSan + LSan"
  # The Python front loads into an uninstrumented interpreter, and the benchmark times peers:
  # both run in the normal suite, not here.
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/sanitizer/lsan.supp \
    ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -E '^(python|kill_loop|Bench\.)'
  exit 0
fi
./scripts/build.sh -DBUILD_TESTING=ON
echo "[sigprop] running tests"
ctest --test-dir build --output-on-failure -j "$(nproc)"
echo "[sigprop] the pip route"
./scripts/check-pip-install.sh
echo "[sigprop] fuzzing every reader briefly"
SIGPROP_FUZZ_SEED=1 ./scripts/fuzz.sh all 20
