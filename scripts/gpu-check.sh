#!/usr/bin/env bash
# One prepared run on a GPU machine (issue 28): builds sigprop there against that machine's own
# torch (a CUDA build of PyTorch 2.x; Python, CMake, ninja; no package registry), runs the CUDA
# checks and writes $OUT/gpu-check/results.txt with every step's outcome and time, and the logs.
#
#   here:             scripts/gpu-prefix.sh      (the Debian -dev packages, unpacked: ~5 MiB)
#   on the GPU:       scripts/gpu-check.sh       (device tool: carry third_party/gpu-prefix)
#   rehearsal here:   scripts/gpu-check.sh --rehearse
#
# --rehearse runs the same steps on this CPU machine with .venv's torch: the configuration from the
# unpacked prefix (every package must come from it), the build, and every check with --device cpu
# where the GPU run uses cuda; the GPU-only tests skip themselves. SIGPROP_REHEARSE_BUILD=build
# runs the checks with an existing build instead of building build-gpu (2 cores take ~20 minutes
# for that build; a 16-core GPU machine a few). Each step has its own time limit so the whole fits
# in 10 minutes on the GPU machine; a failed step is recorded and the next one runs. Exit 1 if
# any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
rehearse=0
[[ ${1:-} == --rehearse ]] && rehearse=1
out=${OUT:-$PWD/runs}/gpu-check
mkdir -p "$out"
results=$out/results.txt
: > "$results"
dev=cuda; [[ $rehearse == 1 ]] && dev=cpu
py=${SIGPROP_PYTHON:-$(command -v python3)}
[[ $rehearse == 1 ]] && py=${SIGPROP_PYTHON:-$PWD/.venv/bin/python}
build=${SIGPROP_GPU_BUILD:-build-gpu}
prefix=$PWD/third_party/gpu-prefix/usr
export LD_LIBRARY_PATH=$prefix/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export SIGPROP_DATA_DIR=$out/data
failed=0

# step NAME LIMIT_SECONDS COMMAND...: runs it, logs to $out/NAME.log, records ok/FAIL and seconds.
step() {
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local code=$?
  local verdict=ok; [[ $code != 0 ]] && verdict="FAIL (exit $code)" && failed=1
  printf '%-22s %-14s %4ds\n' "$name" "$verdict" $((SECONDS - t0)) | tee -a "$results"
  [[ $code == 0 ]] || tail -5 "$out/$name.log" | sed 's/^/    /' | tee -a "$results"
  return $code
}

{
  echo "gpu-check $(date -u +%FT%TZ) on $(hostname) (rehearse=$rehearse, device $dev)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  "$py" -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'
} | tee -a "$results"

[[ -d $prefix ]] || { echo "no third_party/gpu-prefix: run scripts/gpu-prefix.sh first (on a Debian machine)" | tee -a "$results"; exit 1; }
step configure 120 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON \
  -DPython3_EXECUTABLE="$py" -DCMAKE_PREFIX_PATH="$prefix" -DSIGPROP_TCMALLOC=OFF || exit 1
# Every C++ dependency the machine lacks must have come from the prefix.
grep -E '^(CLI11|tomlplusplus|nlohmann_json|GTest)_DIR' "$build/CMakeCache.txt" | sed 's/^/    /' | tee -a "$results"
if [[ $rehearse == 1 && -n ${SIGPROP_REHEARSE_BUILD:-} ]]; then
  build=$SIGPROP_REHEARSE_BUILD
  echo "build                  skipped        (rehearsal with the existing $build)" | tee -a "$results"
else
  step build 420 cmake --build "$build" -j "$(nproc)" --target sigprop sigprop_tests _sigprop || exit 1
fi
cli=$PWD/$build/sigprop
step env 60 "$cli" env
[[ $rehearse == 1 ]] || grep -q 'cuda:0' "$out/env.log" || { echo "    env lists no cuda:0" | tee -a "$results"; failed=1; }
step data 120 "$cli" data prepare
step probe 120 "$cli" probe --preset pre-ln,post-ln,shaped --depth 16 --seeds 2 --device "$dev" \
  --out "$out/probe" --force --no-plot
step train-bf16 120 "$cli" train --preset pre-ln --depth 4 --data kjv --steps 40 --device "$dev" \
  --dtype bf16 --out "$out/train" --force
rm -rf "$out/race"
step race 150 "$cli" race --preset pre-ln,post-ln --depth 8 --steps 30 --device "$dev" --out "$out/race"
step gtest-cuda 120 "$build/tests/sigprop_tests" \
  --gtest_filter='Distributed.NcclOnOneGpu*:Distributed.GradientsAreSent*:Distributed.Backends*:*Cuda*:Autocast.*'
step python-probe 120 env PYTHONPATH="$PWD/$build/python" "$py" - "$dev" <<'PY'
# sigprop.probe of a PyTorch encoder on the device, against the same model probed on the CPU.
import sys, torch, sigprop
dev = sys.argv[1]
torch.manual_seed(0)
layer = torch.nn.TransformerEncoderLayer(128, 4, 256, dropout=0.0, batch_first=True)
model = torch.nn.TransformerEncoder(layer, 8, enable_nested_tensor=False)
x = torch.randn(4, 32, 128)
cpu = sigprop.probe(model, x).rows
on = sigprop.probe(model.to(dev), x.to(dev)).rows
gap = max(abs(a["cosine"] - b["cosine"]) for a, b in zip(cpu, on))
for r in on[-3:]:
    print(r["layer"], r["cosine"], r["t_sim"])
print(f"max |cosine cpu - {dev}| = {gap:.2e}")
assert gap < 1e-3, gap
PY
cases=a,b; [[ $rehearse == 1 ]] && cases=a
step bench 300 "$cli" bench --quick --repeats 1 --cases "$cases" --device "$dev" --out "$out/bench" --force
cat "$out/bench.log" 2>/dev/null | grep -A8 '^case' >> "$results"
echo "done: $([[ $failed == 0 ]] && echo all passed || echo some FAILED); logs in $out" | tee -a "$results"
exit $failed
