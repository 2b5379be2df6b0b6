"""How the probe's cost grows with the work: wall time and peak memory of `sigprop probe` against
depth, width and sequence length T, one factor at a time, with log-log slopes fitted to each.

Usage: .venv/bin/python bench/scale.py --sigprop build/sigprop [--out runs/bench-scale] [--quick]

Each point is one `sigprop probe --preset pre-ln --seeds 1 --batch 8 --input kjv` process; its
peak RSS comes from wait4 (ru_maxrss of that child alone), its time from the wall clock. Beside
the measured memory it prints an estimate of what the model and one backward need (floor_mib:
parameters, gradients, the activations autograd saves); a slope well above the estimate's
would mean the probe keeps more alive than it must.
Writes OUT/scale.json and prints a Markdown table.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

BASE = {"depth": 16, "width": 128, "seq": 64}
SWEEPS = {
    "depth": [16, 32, 64, 128, 256],
    "width": [128, 256, 512, 1024],
    "seq": [64, 128, 256, 512, 1024],
}
QUICK = {"depth": [16, 32, 64], "width": [128, 256], "seq": [64, 128, 256]}
BATCH, HEADS = 8, 4


def probe(exe, point, out):
    args = [exe, "probe", "--preset", "pre-ln", "--seeds", "1", "--batch", str(BATCH), "--input", "kjv",
            "--no-plot", "--force", "--out", str(out), "--depth", str(point["depth"]),
            "--width", str(point["width"]), "--seq", str(point["seq"])]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{err}")
    return seconds, usage.ru_maxrss / 1024.0  # KiB -> MiB


MLP_WIDTH = 512  # pre-ln's mlp_width, which --width leaves as it is


def floor_mib(point):
    """An estimate of what one forward + backward must hold (float32), MiB: parameters and their
    gradients, and per block the activations autograd saves: about 8 (B, T, d) tensors (norms,
    q/k/v, attention output, residuals), 2 (B, T, mlp_width) ones and the attention
    probabilities (B, H, T, T)."""
    L, d, T, m = point["depth"], point["width"], point["seq"], MLP_WIDTH
    params = L * (4 * d * d + 2 * d * m)
    activations = L * (BATCH * T * (8 * d + 2 * m) + BATCH * HEADS * T * T)
    return 4 * (2 * params + activations) / 2**20


def slope(xs, ys):
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sigprop", required=True)
    p.add_argument("--out", default="runs/bench-scale")
    p.add_argument("--quick", action="store_true", help="three points per factor")
    a = p.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    sweeps = QUICK if a.quick else SWEEPS
    report = {"base": BASE, "batch": BATCH, "rows": [], "slopes": {}}
    for factor, values in sweeps.items():
        xs, secs, mems, floors = [], [], [], []
        for v in values:
            point = dict(BASE, **{factor: v})
            s, m = probe(a.sigprop, point, out / "probe")
            f = floor_mib(point)
            print(f"{factor}={v}: {s:.2f} s, {m:.0f} MiB (floor {f:.0f} MiB)", file=sys.stderr)
            report["rows"].append({**point, "factor": factor, "seconds": s, "peak_mib": m, "floor_mib": f})
            xs.append(v), secs.append(s), mems.append(m), floors.append(f)
        # Memory above the process's fixed start (LibTorch, the data) is what grows.
        base_mib = min(mems) - min(floors)
        report["slopes"][factor] = {
            "time": slope(xs, secs),
            "memory_above_start": slope(xs, [max(m - base_mib, 1.0) for m in mems]),
            "floor": slope(xs, floors),
        }
    (out / "scale.json").write_text(json.dumps(report, indent=2) + "\n")
    print("| depth | width | T | seconds | peak MiB | floor MiB |")
    print("|---|---|---|---|---|---|")
    for r in report["rows"]:
        print(f"| {r['depth']} | {r['width']} | {r['seq']} | {r['seconds']:.2f} | {r['peak_mib']:.0f} | {r['floor_mib']:.0f} |")
    print("\n| factor | time slope | memory slope (above start) | floor slope |")
    print("|---|---|---|---|")
    for f, s in report["slopes"].items():
        print(f"| {f} | {s['time']:.2f} | {s['memory_above_start']:.2f} | {s['floor']:.2f} |")


if __name__ == "__main__":
    main()
