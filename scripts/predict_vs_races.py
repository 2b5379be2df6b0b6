#!/usr/bin/env python3
"""Predicted rank collapse against trained outcomes: for every race of docs/calibration
(calibration.csv: data, depth, preset, the race's validation loss and the probe's final-layer
cosine), `sigprop.predict` of the same preset, depth and width; per setting, Spearman's ρ of the
predicted and of the probed final cosine against the validation loss, and how far prediction and
probe differ.

    .venv/bin/python scripts/predict_vs_races.py docs/calibration/calibration.csv docs/figures/predict/races.csv
"""
import argparse
import csv
import math
import time
from collections import defaultdict

import sigprop


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return num / den if den else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("calibration")
    ap.add_argument("out")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--mlp-width", type=int, default=256)
    a = ap.parse_args()
    rows = [r for r in csv.DictReader(open(a.calibration)) if r["val_loss"] not in ("", "nan")]
    start = time.time()
    out = []
    for r in rows:
        p = sigprop.predict(r["preset"], depth=int(r["depth"]), width=a.width,
                            set={"mlp_width": a.mlp_width}, seeds=3, batch=1)["predict"]
        out.append({**{k: r[k] for k in ("split", "data", "depth", "preset", "val_loss")},
                    "probe_cosine": float(r["rank_collapse"]), "predicted_cosine": float(p["cosine"][-1])})
    seconds = time.time() - start
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    by = defaultdict(list)
    for r in out:
        by[(r["split"], r["data"], r["depth"])].append(r)
    print(f"{len(out)} races in {len(by)} settings; predicted in {seconds:.1f}s")
    print(f"{'split':<12}{'data':<15}{'depth':>6}{'n':>4}{'rho(pred, loss)':>17}{'rho(probe, loss)':>18}"
          f"{'max|pred-probe|':>17}")
    for key, rs in sorted(by.items()):
        loss = [float(r["val_loss"]) for r in rs]
        pred = [r["predicted_cosine"] for r in rs]
        probe = [r["probe_cosine"] for r in rs]
        diff = max(abs(x - y) for x, y in zip(pred, probe))
        print(f"{key[0]:<12}{key[1]:<15}{key[2]:>6}{len(rs):>4}{spearman(pred, loss):>17.2f}"
              f"{spearman(probe, loss):>18.2f}{diff:>17.3f}")


if __name__ == "__main__":
    main()
