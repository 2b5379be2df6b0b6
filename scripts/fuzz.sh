#!/usr/bin/env bash
# Fuzzes sigprop's readers of outside input with libFuzzer (tests/fuzz/, issue 19).
#   scripts/fuzz.sh TARGET [SECONDS]   one target (default 60 s), its corpus grown in runs/fuzz/
#   scripts/fuzz.sh all [SECONDS]      every target in turn (CI: a short run of each)
# Targets: model_config sweep_grid repro_plan run_json checkpoint idx kjv_cache safetensors.
# Needs the main build (scripts/build.sh) and clang with libclang-rt (scripts/install-deps.sh).
# A crash, leak, hang or undefined behaviour stops with exit 1 and its input saved as
# runs/fuzz/<target>/crash-*; keep it in tests/fuzz/regressions/<target>/ once fixed, where the
# normal test suite (Fuzz.SeedsAndRegressionsPassEveryHarness) replays it. SIGPROP_FUZZ_SEED fixes
# libFuzzer's random seed (CI's runs use 1: the same mutations each time); unset, it is random.
# Each run's figures
# (executions, coverage, corpus) go to runs/fuzz/<target>/stats.txt and runs/fuzz/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET|all [SECONDS]}
seconds=${2:-60}
all=(model_config sweep_grid repro_plan run_json checkpoint idx kjv_cache safetensors)
if [[ $target == all ]]; then targets=("${all[@]}"); else targets=("$target"); fi
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t'; one of: ${all[*]} all" >&2; exit 2; }
done
[[ -f build/libsigprop_core.a ]] || { echo "fuzz.sh: no build/ yet: run scripts/build.sh first" >&2; exit 2; }
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing: scripts/install-deps.sh installs it" >&2; exit 2; }
echo "[fuzz] building the targets (clang, ASan + UBSan) in build-fuzz/"
CXX=clang++ cmake -S tests/fuzz -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSIGPROP_BUILD="$PWD/build" >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
mkdir -p runs/fuzz
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
summary=runs/fuzz/summary.txt
: > "$summary"
status=0
for t in "${targets[@]}"; do
  work=runs/fuzz/$t
  mkdir -p "$work/corpus"
  # Seeds first, the grown corpus after: -merge would drop seeds that add no coverage.
  log=$work/fuzz.log
  echo "[fuzz] $t for ${seconds}s"
  set +e
  SIGPROP_DATA_DIR=$PWD/build/data build-fuzz/fuzz_$t "$work/corpus" "tests/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
    -artifact_prefix="$work/" -print_final_stats=1 -seed="${SIGPROP_FUZZ_SEED:-0}" > "$log" 2>&1
  code=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  corpus=$(ls "$work/corpus" | wc -l)
  line="$t: ${execs} executions in ${seconds}s, coverage ${cov} edges, corpus ${corpus} inputs, exit ${code}"
  echo "$line" | tee -a "$summary"
  grep -E "stat::|cov:" "$log" | tail -8 > "$work/stats.txt" || true
  if [[ $code -ne 0 ]]; then
    echo "[fuzz] $t FOUND A PROBLEM: see $log and $work/crash-* / leak-* / timeout-*" >&2
    grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -8 >&2 || true
    status=1
  fi
done
exit $status
