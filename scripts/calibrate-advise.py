#!/usr/bin/python3
"""Calibration of `sigprop advise` against training (docs/advise.md).

Reads the merged results of the calibration sweeps (configs/sweeps/calibration*.toml), diagnoses
every (data, depth, preset) of them at initialisation with `sigprop advise --diagnose-only`, and
asks the advisor for its recommendation from post-ln at each depth. Then:
  - Spearman's rho of each init metric, and of the advisor's score, against final validation
    loss, with a bootstrap 95% interval;
  - the score's weights fitted on one part of the sweep and judged on the rest;
  - how often the top recommendation is among the best two presets of the race;
  - the same, on the held-out sweeps (configs/sweeps/calibration-holdout*.toml: KJV depth 24,
    Fashion-MNIST depth 32) that no choice was made on, those that have been run; and on the third
    held-out set (calibration-holdout2-*.toml: eight settings of data, depth, width and optimiser,
    every preset with the standard fixes), judged against issue 30's goals; a race whose cells
    have not all run is named, not judged. A setting (data, depth, width, optimiser) in the
    committed table whose sweep folder is absent keeps its committed rows: only the sweeps found
    are diagnosed again.
Writes docs/calibration/calibration.csv (one row per trained configuration, every number the
docs use), docs/calibration/summary.md and docs/figures/advise-calibration.png (with --out
elsewhere, all of them there).

    scripts/calibrate-advise.py                  # diagnose (cached) and analyse
    scripts/calibrate-advise.py --from-csv       # analyse the committed table alone, no sigprop run
    scripts/calibrate-advise.py --archive        # also keep finished cells and advise runs in docs/calibration
    sigprop sweep configs/sweeps/calibration-holdout.toml --jobs 2 && sigprop sweep ... --merge
                                                 # the held-out races, read from runs/sweep-calibration-holdout*

The archive holds each finished cell's record (done.json, log, race.csv, run.json, and each
run's summary.json, run.json and train.jsonl: the loss curves), not its checkpoints, so that a
fresh clone can resume the sweep where it stopped:
    cp -r docs/calibration/sweeps/sweep-calibration* runs/ && sigprop sweep configs/sweeps/calibration.toml
and each advise run's advice.json, so that a clone diagnoses only what is new (the cache is keyed
by setting and preset, not by sigprop's version: delete it after changing the advisor):
    mkdir -p runs && cp -r docs/calibration/advise runs/calibration-advise
"""
import argparse
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tomllib

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FINDINGS = ["rank_collapse", "qk_starvation", "spectral_gap", "gradient_spread", "initial_loss"]
WEIGHT_KEYS = ["collapse", "qk", "gap", "spread", "loss"]
# The part of the sweep the weights and thresholds are fitted on; the rest judges them.
FIT = [("kjv", 8), ("kjv", 32)]
# The advisor's defaults (studies/advise/advise.h) and the ones before this calibration.
DEFAULT_THRESHOLDS = {"rank_collapse": 0.9, "qk_starvation": 1e-2, "spectral_gap": 10.0,
                      "gradient_spread": 10.0, "initial_loss": 0.5}
DEFAULT_WEIGHTS = (1, 1, 1, 1, 0)
BEFORE_THRESHOLDS = dict(DEFAULT_THRESHOLDS, rank_collapse=0.95)
BEFORE_WEIGHTS = (1, 1, 1, 1, 1)
THRESHOLD_GRID = {"rank_collapse": [0.0, 0.5, 0.8, 0.9, 0.95, 0.99], "qk_starvation": [1e-3, 1e-2, 1e-1],
                  "spectral_gap": [10.0], "gradient_spread": [3.0, 10.0, 30.0], "initial_loss": [0.25, 0.5, 1.0]}
# A race: what its presets are compared within. Losses of different settings are not comparable,
# their orders are. The earlier sweeps trained at width 64 with AdamW.
SETTING = ["data", "depth", "width", "optimizer"]
HOLDOUT2 = ["kjv", "kjv-sgd", "fashion", "fashion-sgd"]


def with_setting(t):
    """`t` with every SETTING column (tables written before the width and optimiser varied)."""
    t = t.copy()
    for k, default in (("width", 64), ("optimizer", "adamw"), ("race_complete", True)):
        t[k] = t[k].fillna(default) if k in t else default
    t["width"] = t["width"].astype(int)
    t["race_complete"] = t["race_complete"].astype(bool)
    return t


def setting_name(data, depth, width, optimizer):
    return f"{data} {depth}" + (f" w{width}" if width != 64 else "") + \
        (f" {optimizer}" if optimizer != "adamw" else "")


def sweep_rows(folder):
    """A sweep's finished rows, with the data set its grid trained on ([fixed] data) and its folder."""
    t = pd.read_csv(os.path.join(folder, "results.csv"))
    finished = t["outcome"].isin(["done", "diverged"])
    # A race is judged only when all its cells have run: a partial race has no best two.
    keys = [t[k] for k in SETTING if k in t]
    t["race_complete"] = finished.groupby(keys).transform("all") if keys else finished.all()
    t = t[finished].copy()
    with open(os.path.join(folder, "grid.toml"), "rb") as f:
        fixed = tomllib.load(f)["fixed"]
    for k, default in (("data", None), ("depth", None), ("width", 64), ("optimizer", "adamw")):
        if k not in t:
            t[k] = fixed.get(k, default)
    t["folder"] = folder
    return with_setting(t)


def advise(sigprop, out, preset, depth, width, data, diagnose_only):
    """advice.json of one advise run, cached in `out`."""
    path = os.path.join(out, "advice.json")
    if not os.path.exists(path):
        cmd = [sigprop, "advise", "--preset", preset, "--depth", str(depth), "--width", str(width),
               "--set", "mlp_width=256",
               "--seeds", "3", "--no-plot", "--out", out]
        if diagnose_only:
            cmd.append("--diagnose-only")
        if data == "fashion-mnist":
            cmd += ["--input", "gaussian"]  # the probe has no image input: raw Gaussian tokens
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        return json.load(f)


def balance(diagnosis):
    """The diagnosis's gradient balance; JSON's null is +inf when a ratio is 0 (advise.cpp's rule)."""
    b = diagnosis.get("balance")
    if b is not None:
        return b
    by = {f["name"]: f["value"] for f in diagnosis["findings"]}
    return math.inf if 0 in (by["gradient_spread"], by["qk_starvation"]) else math.nan


def penalties(diagnosis):
    by = {f["name"]: f for f in diagnosis["findings"]}
    row = {f"p_{k}": by[k]["penalty"] for k in FINDINGS}
    row["p_non_finite"] = by["non_finite"]["penalty"]
    for k in FINDINGS:
        row[k] = by[k]["value"]
    return row


def last_100_drop(sweep, cell, preset, lr):
    """How much the training loss (window mean, seed 0 at the chosen lr) fell over the last 100
    steps: near 0 when the run has flattened."""
    path = os.path.join(sweep, "cells", cell, "out", "runs", f"{preset}[mlp_width=256]", f"lr{lr:.3g}", "seed0",
                        "train.jsonl")
    if not os.path.exists(path):
        return math.nan
    with open(path) as f:
        log = [json.loads(line) for line in f if '"loss_mean"' in line]
    last = log[-1]
    before = [r for r in log if r["step"] <= last["step"] - 100]
    return before[-1]["loss_mean"] - last["loss_mean"] if before else math.nan


def collect(args):
    folders = ([(args.kjv, "calibration"), (args.fashion, "calibration")]
               + [(folder, "holdout") for folder in args.holdout]
               + [(folder, "holdout2") for folder in args.holdout2])
    present = [(f, split) for f, split in folders if os.path.exists(os.path.join(f, "results.csv"))]
    if not present:
        sys.exit("no sweep folder named has a results.csv (" + ", ".join(f for f, _ in folders) +
                 "): run `sigprop sweep` on a calibration grid, then --merge; or --from-csv")
    runs = pd.concat([sweep_rows(f).assign(split=split) for f, split in present])
    rows, recs = [], []
    for _, r in runs.iterrows():
        wide = f"-w{r['width']}" if r["width"] != 64 else ""  # the optimiser does not change the init
        tag = f"{r['data']}-d{r['depth']}{wide}-{r['preset']}"
        a = advise(args.sigprop, os.path.join(args.advise_dir, tag), r["preset"], r["depth"], r["width"],
                   r["data"], True)
        row = {"split": r["split"], "data": r["data"], "depth": int(r["depth"]), "width": int(r["width"]),
               "optimizer": r["optimizer"], "preset": r["preset"], "lr": r["lr"],
               "status": r["status"], "val_loss": r["val_loss"], "train_loss": r["train_loss"],
               "seeds": r["seeds"], "race_complete": r["race_complete"],
               "drop_last_100": last_100_drop(r["folder"], r["cell"], r["preset"], r["lr"]),
               "score": a["model"]["diagnosis"]["score"], "balance": balance(a["model"]["diagnosis"])}
        row.update(penalties(a["model"]["diagnosis"]))
        rows.append(row)
    for data, depth, width in sorted({(d, int(x), int(w)) for d, x, w in
                                      zip(runs["data"], runs["depth"], runs["width"])}):
        wide = f"-w{width}" if width != 64 else ""
        a = advise(args.sigprop, os.path.join(args.advise_dir, f"{data}-d{depth}{wide}-rank"), "post-ln",
                   depth, width, data, False)
        for i, c in enumerate(a["ranking"]):
            rec = {"data": data, "depth": depth, "width": width, "rank": i + 1, "fix": c["name"],
                   "score": c["diagnosis"]["score"],
                   "balance": balance(c["diagnosis"])}
            rec.update(penalties(c["diagnosis"]))
            recs.append(rec)
    # A finding that cannot be measured is JSON's null: NaN, even in a column with no number in it
    # (the initial loss of a Fashion-MNIST probe on Gaussian tokens).
    table, recs = pd.DataFrame(rows), pd.DataFrame(recs)
    return table.astype({k: float for k in FINDINGS}), recs.astype({k: float for k in FINDINGS})


def ranks(x):
    return pd.Series(x).rank(method="average").to_numpy()


def spearman(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan
    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def bootstrap(x, y, n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x, y = np.asarray(x, float), np.asarray(y, float)
    vals = []
    for _ in range(n):
        i = rng.integers(0, len(x), len(x))
        v = spearman(x[i], y[i])
        if not math.isnan(v):
            vals.append(v)
    return (float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))) if vals else (math.nan, math.nan)


def loss_for_ranking(t):
    """Each configuration's place in its own race (SETTING), 0 best ... 1 worst: losses of
    different settings are not comparable, their orders are. A diverged run (or a NaN loss) is
    worse than any finite loss."""
    loss = t["val_loss"].where(np.isfinite(t["val_loss"]) & (t["status"] == "completed"), 1e9)
    place = loss.groupby([t[k] for k in SETTING]).rank(method="average", pct=True)
    return place.to_numpy()


def penalty_columns(t, th):
    """(n, 5) penalties of the table's finding values at thresholds `th`, by the C++ formula
    (studies/advise/advise.cpp, through the Python front) so the two cannot drift apart."""
    from sigprop import _sigprop
    cols = []
    for k in FINDINGS:
        cols.append([_sigprop.advise.penalty(k, float(v), th[k]) if np.isfinite(v) else 0.0 for v in t[k]])
    return np.array(cols).T


def score_with(t, w, th=None):
    th = th or DEFAULT_THRESHOLDS
    return -t["p_non_finite"].to_numpy() - penalty_columns(t, th) @ np.asarray(w, float)


def tie_values(t, tie):
    """The tie-break's value per row, lower first, unmeasured last (advise.cpp: ranks_before)."""
    v = (t["balance"] if tie == "balance" else t["rank_collapse"]).to_numpy(float)
    return np.where(np.isnan(v), np.inf, v)


def order_key(t, w, th, tie):
    """One number per row, higher = ranked first: the score, then the tie-break (lexicographic;
    scores that differ differ by far more than 1e-9 times the clipped tie value's range)."""
    return score_with(t, w, th) * 1e9 - np.clip(tie_values(t, tie), 0, 1e3)


def row_ranks(m):
    """Average ranks along each row (ties share their mean rank), as Spearman's rho needs."""
    return np.vstack([pd.Series(r).rank(method="average").to_numpy() for r in m])


def fit(t):
    """Thresholds and weights maximising -rho(score, loss) on `t`: an exhaustive grid, the
    weights vectorised per threshold setting."""
    loss = ranks(loss_for_ranking(t))
    loss = (loss - loss.mean()) / (loss.std() or 1)
    weights = np.array([w for w in itertools.product([0, 0.5, 1, 2], repeat=len(FINDINGS)) if any(w)], float)
    best = None
    for values in itertools.product(*THRESHOLD_GRID.values()):
        th = dict(zip(THRESHOLD_GRID, values))
        scores = -t["p_non_finite"].to_numpy()[None, :] - weights @ penalty_columns(t, th).T
        r = row_ranks(scores)
        sd = r.std(axis=1)
        r = (r - r.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1)[:, None]
        rho = (r * loss[None, :]).mean(axis=1)
        rho[sd == 0] = np.nan
        if np.all(np.isnan(rho)):
            continue
        i = int(np.nanargmin(rho))
        if best is None or rho[i] < best[0] - 1e-12:
            best = (float(rho[i]), tuple(weights[i]), th)
    return best


def top2_hits(table, recs, th, w, tie):
    """Per setting: the fix the advisor recommends from post-ln under thresholds `th`, weights
    `w` and tie-break `tie` (as advise orders them), against the race's best two."""
    out = []
    for (data, depth, width, optimizer), g in table.groupby(SETTING):
        race = g.assign(loss=loss_for_ranking(g)).sort_values(["loss"])
        best2 = list(race["preset"][:2])
        r = recs[(recs["data"] == data) & (recs["depth"] == depth) & (recs["width"] == width)].copy()
        if not len(r):
            continue
        r["key"] = order_key(r, w, th, tie)
        r = r.sort_values(["key"], ascending=False, kind="stable")
        top = r["fix"].iloc[0]
        out.append({"data": data, "depth": depth, "width": width, "optimizer": optimizer,
                    "split": g["split"].iloc[0], "recommended": top, "race_best": best2[0],
                    "race_second": best2[1] if len(best2) > 1 else None, "hit": top in best2})
    return pd.DataFrame(out)


KEEP = {"done.json", "log.txt", "race.csv", "run.json", "summary.json", "train.jsonl", "vocab.json",
        ".sigprop-run"}


def archive(sweep, dest):
    """Copies the finished cells of `sweep` (their records, not their checkpoints) into `dest`."""
    name = os.path.basename(os.path.normpath(sweep))
    target = os.path.join(dest, name)
    if os.path.realpath(sweep) == os.path.realpath(target):
        return 0  # read from the archive itself: nothing to copy
    for f in ("grid.toml", "results.csv"):
        if os.path.exists(os.path.join(sweep, f)):
            os.makedirs(target, exist_ok=True)
            shutil.copy2(os.path.join(sweep, f), os.path.join(target, f))
    cells = os.path.join(sweep, "cells")
    kept = 0
    for cell in sorted(os.listdir(cells)) if os.path.isdir(cells) else []:
        src = os.path.join(cells, cell)
        if not os.path.exists(os.path.join(src, "done.json")):
            continue  # unfinished: its checkpoints are not archived, so it runs again on resume
        for root, _, files in os.walk(src):
            for f in files:
                if f in KEEP:
                    out = os.path.join(target, "cells", cell, os.path.relpath(root, src))
                    os.makedirs(out, exist_ok=True)
                    shutil.copy2(os.path.join(root, f), os.path.join(out, f))
        kept += 1
    return kept


def archive_advice(advise_dir, dest):
    """Copies each cached advise run's advice.json (a few kB) into `dest`, for a clone to reuse."""
    if not os.path.isdir(advise_dir) or os.path.realpath(advise_dir) == os.path.realpath(dest):
        return 0  # nothing cached, or read from the archive itself
    kept = 0
    for tag in sorted(os.listdir(advise_dir)):
        src = os.path.join(advise_dir, tag, "advice.json")
        if os.path.exists(src):
            os.makedirs(os.path.join(dest, tag), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, tag, "advice.json"))
            kept += 1
    return kept


def keep_committed(table, recs, old_table, old_recs):
    """Rows of the committed tables for the races no sweep folder supplied this time (a sweep run
    elsewhere and merged into the table before): kept, not dropped."""
    old_table, old_recs = with_setting(old_table), with_setting(old_recs)
    have = pd.MultiIndex.from_frame(table[SETTING])
    old_table = old_table[~pd.MultiIndex.from_frame(old_table[SETTING]).isin(have)]
    have = pd.MultiIndex.from_frame(recs[["data", "depth", "width"]])
    old_recs = old_recs[~pd.MultiIndex.from_frame(old_recs[["data", "depth", "width"]]).isin(have)]
    for key in sorted(set(map(tuple, old_table[SETTING].to_numpy()))):
        print(f"kept the committed rows of {setting_name(*key)} (its sweep folder is absent)")
    return pd.concat([table, old_table], ignore_index=True), pd.concat([recs, old_recs], ignore_index=True)


def third_set_goals(third, recs, running):
    """Issue 30's goals on the third held-out set, under today's rule: the top recommendation
    among the race's best two in >= 80 % of the settings, and the ordering's Spearman rho against
    final loss <= -0.75 (pooled over the settings' places, and per setting). Races still running
    are named, not judged."""
    hits = top2_hits(third, recs, DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS, "balance")
    lines = ["", f"## Third held-out set: issue 30's goals ({len(hits)} of 8 settings run)", ""]
    lines += [f"- still running, not judged: {setting_name(*k)} ({len(g)} of its presets finished)"
              for k, g in running.groupby(SETTING)]
    if not len(hits):
        return lines
    key = order_key(third, DEFAULT_WEIGHTS, DEFAULT_THRESHOLDS, "balance")
    pooled = spearman(key, loss_for_ranking(third))  # key: higher = ranked first, so rho < 0 is right
    lines += [f"- top recommendation among the race's best two: {int(hits['hit'].sum())} of {len(hits)} "
              f"({100 * hits['hit'].mean():.0f} %; goal >= 80 %)",
              f"- Spearman rho of the advisor's ordering (score, then tie-break) against final loss, "
              f"pooled over the settings' places: {pooled:.2f} (goal <= -0.75)", "",
              "| setting | presets raced | rho, ordering vs loss | recommended | its place in the race "
              "| race best | race second |", "|---|---|---|---|---|---|---|"]
    for k, g in third.groupby(SETTING):
        order = order_key(g, DEFAULT_WEIGHTS, DEFAULT_THRESHOLDS, "balance")
        h = hits[(hits[SETTING] == pd.Series(dict(zip(SETTING, k)))).all(axis=1)]
        rec = h["recommended"].iloc[0] if len(h) else None
        race = g.assign(loss=loss_for_ranking(g)).sort_values("loss")["preset"].tolist()
        place = f"{race.index(rec) + 1} of {len(race)}" if rec in race else "not raced"
        lines.append(f"| {setting_name(*k)} | {len(g)} | {spearman(order, loss_for_ranking(g)):.2f} | "
                     f"{rec} | {place} | {race[0]} | {race[1] if len(race) > 1 else '-'} |")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sigprop", default=os.path.join(ROOT, "build", "sigprop"))
    p.add_argument("--kjv", default=os.path.join(ROOT, "runs", "sweep-calibration"))
    p.add_argument("--fashion", default=os.path.join(ROOT, "runs", "sweep-calibration-fashion"))
    p.add_argument("--holdout", nargs="*", default=[os.path.join(ROOT, "runs", f"sweep-calibration-holdout{s}")
                                                    for s in ("", "-fashion")])
    p.add_argument("--holdout2", nargs="*", default=[os.path.join(ROOT, "runs", f"sweep-calibration-holdout2-{s}")
                                                     for s in HOLDOUT2])
    p.add_argument("--advise-dir", default=os.path.join(ROOT, "runs", "calibration-advise"))
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "calibration"))
    p.add_argument("--from-csv", action="store_true", help="analyse the committed tables alone")
    p.add_argument("--archive", action="store_true",
                   help="copy the finished cells (no checkpoints) to OUT/sweeps and the advise runs to "
                        "OUT/advise, for a clone to resume from")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    table_path = os.path.join(args.out, "calibration.csv")
    recs_path = os.path.join(args.out, "recommendations.csv")
    if args.archive:
        for sweep in (args.kjv, args.fashion, *args.holdout, *args.holdout2):
            if os.path.isdir(sweep):
                print(f"archived {archive(sweep, os.path.join(args.out, 'sweeps'))} finished cells of {sweep}")
        print(f"archived {archive_advice(args.advise_dir, os.path.join(args.out, 'advise'))} advise runs "
              f"of {args.advise_dir}")
    if args.from_csv:
        table, recs = with_setting(pd.read_csv(table_path)), with_setting(pd.read_csv(recs_path))
    else:
        table, recs = collect(args)
        if os.path.exists(table_path):
            table, recs = keep_committed(table, recs, pd.read_csv(table_path), pd.read_csv(recs_path))
        table.to_csv(table_path, index=False, float_format="%.6g")
        recs.to_csv(recs_path, index=False, float_format="%.6g")

    third = table[table["split"] == "holdout2"]
    running = third[~third["race_complete"]]
    third = third.drop(running.index)
    holdout = table[table["split"] == "holdout"]
    table = table[table["split"] == "calibration"]
    loss = loss_for_ranking(table)
    lines = [f"# Calibration of `sigprop advise` ({len(table)} trained configurations"
             + (f", {len(holdout)} more held out" if len(holdout) else "")
             + (f", {len(third)} in the third held-out set" if len(third) else "") + ")", "",
             "Spearman's rho against final validation loss, as each configuration's place in its own "
             "race (data, depth, width, optimiser), pooled (diverged runs rank last); 95% bootstrap "
             "interval over configurations. A metric that predicts a worse loss when it is larger "
             "has rho > 0; the score (higher = better) should have rho < 0.", "",
             "| predictor | all | 95% interval |", "|---|---|---|"]
    for k in ["score", "balance"] + FINDINGS:
        x = table[k] if k == "score" else table[k].replace(np.inf, np.nan).fillna(table[k].median())
        rho = spearman(x, loss)
        lo, hi = bootstrap(x, loss)
        lines.append(f"| {k} | {rho:.2f} | [{lo:.2f}, {hi:.2f}] |")

    lines += ["", "How far from flat: the training loss's fall over the last 100 of the steps (seed 0, best lr).", "",
              "| setting | pre-ln val loss | pre-ln drop | median drop of all |", "|---|---|---|---|"]
    everything = pd.concat([table, holdout, third])
    for key, g in everything.groupby(SETTING):
        pre = g[g["preset"] == "pre-ln"]
        pv = f"{pre['val_loss'].iloc[0]:.3f}" if len(pre) else "n/a"
        pd_ = f"{pre['drop_last_100'].iloc[0]:.3f}" if len(pre) else "n/a"
        lines.append(f"| {setting_name(*key)} | {pv} | {pd_} | {g['drop_last_100'].median():.3f} |")
    fit_part = table[[(d, x) in FIT for d, x in zip(table["data"], table["depth"])]]
    judge = table.drop(fit_part.index)
    lines += ["", f"Thresholds and weights fitted on {', '.join(f'{d} depth {x}' for d, x in FIT)} "
              f"({len(fit_part)} configurations, the best of an exhaustive grid); judged on the rest ({len(judge)})"
              + (f" and on the held-out sweeps ({len(holdout)})" if len(holdout) else "") +
              ". rho is that of the ranking (the score, then the tie-break) against the loss: more negative is "
              "better. `before` is the advisor before this calibration; `default` is today's, whose "
              "tie-break (gradient balance) was chosen after seeing the whole calibration table, "
              "so only the held-out sweeps judge it.", ""]
    best = fit(fit_part) if len(fit_part) >= 3 else None
    lines += ["| setting | thresholds | weights (" + ", ".join(WEIGHT_KEYS) + ") | tie-break | rho on fit | "
              "rho on judge | judge 95% interval | rho held out | rho, third set |",
              "|---|---|---|---|---|---|---|---|---|"]
    settings = [("before", BEFORE_THRESHOLDS, BEFORE_WEIGHTS, "cosine")]
    if best:
        settings += [("fitted", best[2], best[1], "cosine"), ("fitted-balance", best[2], best[1], "balance")]
    settings += [("default", DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS, "balance")]

    def rho_of(t, th, w, tie):
        if len(t) < 3:
            return math.nan, (math.nan, math.nan)
        x, y = -order_key(t, w, th, tie), loss_for_ranking(t)
        return spearman(-x, y), bootstrap(-x, y)

    for name, th, w, tie in settings:
        rf, _ = rho_of(fit_part, th, w, tie)
        rj, (lo, hi) = rho_of(judge, th, w, tie)
        rh, _ = rho_of(holdout, th, w, tie)
        r3, _ = rho_of(third, th, w, tie)
        ths = ", ".join(f"{k} {v:g}" for k, v in th.items())
        lines.append(f"| {name} | {ths} | {tuple(float(x) for x in w)} | {tie} | {rf:.2f} | {rj:.2f} | "
                     f"[{lo:.2f}, {hi:.2f}] | {rh:.2f} | {r3:.2f} |")

    for name, th, w, tie in settings:
        hits = top2_hits(everything, recs, th, w, tie)
        hits.to_csv(os.path.join(args.out, f"top2-{name}.csv"), index=False)
        part = {k: hits[hits["split"] == k] for k in ("calibration", "holdout", "holdout2")}
        said = [f"{int(h['hit'].sum())} of {len(h)} {label}" for k, label in
                (("holdout", "held out"), ("holdout2", "in the third held-out set")) if len(h := part[k])]
        cal = part["calibration"]
        lines += ["", f"**{name}**: the top recommendation from post-ln is among the race's best two in "
                  f"{int(cal['hit'].sum())} of {len(cal)} calibration settings ({100 * cal['hit'].mean():.0f} %)"
                  + "".join(f", {x}" for x in said) + ".", "",
                  "| setting | split | recommended | race best | race second | hit |",
                  "|---|---|---|---|---|---|"]
        for _, h in hits.iterrows():
            lines.append(f"| {setting_name(h['data'], h['depth'], h['width'], h['optimizer'])} | {h['split']} | "
                         f"{h['recommended']} | {h['race_best']} | {h['race_second']} | "
                         f"{'yes' if h['hit'] else 'no'} |")
    if len(third) or len(running):
        lines += third_set_goals(third, recs, running)
    summary = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(summary)
    print(summary)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for key, g in everything.groupby(SETTING):
        ok = np.isfinite(g["val_loss"])
        held = " (held out)" if (g["split"] != "calibration").any() else ""
        ax.scatter(g["score"][ok], g["val_loss"][ok], label=f"{setting_name(*key)}{held}", s=28,
                   marker="D" if held else "o")
        for _, r in g[ok].iterrows():
            ax.annotate(r["preset"], (r["score"], r["val_loss"]), fontsize=6, alpha=0.7)
    ax.set_xlabel("advisor's score at init (0 = nothing found)")
    ax.set_ylabel("final validation loss at the best lr")
    ax.set_title("sigprop advise: predicted trainability against training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    # The docs' figure only when the docs' tables were written; an analysis elsewhere keeps its own.
    docs_out = os.path.realpath(args.out) == os.path.realpath(os.path.join(ROOT, "docs", "calibration"))
    fig_path = os.path.join(ROOT, "docs", "figures", "advise-calibration.png") if docs_out else \
        os.path.join(args.out, "advise-calibration.png")
    fig.savefig(fig_path, dpi=110)
    print(f"wrote {table_path}, {recs_path}, {args.out}/summary.md, {args.out}/top2-*.csv, {fig_path}")


if __name__ == "__main__":
    main()
