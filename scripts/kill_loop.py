#!/usr/bin/env python3
"""kill -9 at random instants, repeated, and nothing may be lost (issue 19).

For each target (train; train-dp, the same run on two data-parallel ranks; sweep; repro) the script runs the command once uninterrupted (the
reference), then over and over in fresh folders, killing it with SIGKILL at a random instant of
its run (for train, half of the kills land while a checkpoint is being written: the script waits
for the checkpoint's temporary file to appear) and running the very same command again until it
ends. After every kill it checks that no file of the folder is half-written (every JSON file
parses, every line of train.jsonl but a torn last one, the checkpoint loads through
`sigprop export`), and at the end that the run's results equal the reference's. It stops by
itself after --kills kills per target and prints, and writes as JSON, the counts.

Usage: scripts/kill_loop.py [--sigprop build/sigprop] [--kills 50]
                            [--targets train,train-dp,sweep,repro]
                            [--out runs/kill-loop] [--seed 0]
Exit 0 when nothing was lost, 1 otherwise.
"""
import argparse
import csv
import glob
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

SWEEP_GRID = """# kill_loop.py's sweep: four short training cells
command = "train"
[fixed]
preset = "pre-ln"
data = "synthetic"
steps = 24
batch = 4
seq = 16
width = 32
heads = 2
eval-every = 8
checkpoint-every = 4
eval-batches = 2
log-every = 4
[grid]
depth = [1, 2]
lr = [0.001, 0.003]
"""

REPRO_PLAN = """# kill_loop.py's reproduction plan: a probe and a short race
paper = "kill-loop"
title = "kill_loop.py: a plan resumes after kill -9"
claim = "none: the plan only has to end with the results of an uninterrupted run"
[[step]]
name = "probe"
args = "probe --preset post-ln,pre-ln --depth 1,3 --width 16 --seq 8 --batch 2 --seeds 1 --input gaussian --no-plot"
[[step]]
name = "race"
args = "race --preset pre-ln,post-ln --depth 2 --width 32 --data synthetic --steps 24 --batch 4 --seq 16 --eval-every 8 --checkpoint-every 4 --eval-batches 2 --lr 0.001"
"""

TIMING = ("elapsed_s", "tokens_per_s", "seconds", "time_utc", "wall_s", "eta_s")


def train_cmd(sigprop, out):
    return [sigprop, "train", "--preset", "pre-ln", "--depth", "2", "--width", "32", "--heads", "2",
            "--data", "synthetic", "--steps", "40", "--batch", "4", "--seq", "16",
            "--eval-every", "10", "--checkpoint-every", "5", "--eval-batches", "2",
            "--log-every", "5", "--out", out]


def strip_timing(obj):
    if isinstance(obj, dict):
        return {k: strip_timing(v) for k, v in obj.items() if k not in TIMING}
    if isinstance(obj, list):
        return [strip_timing(v) for v in obj]
    return obj


def train_result(out):
    lines = [json.loads(l) for l in open(os.path.join(out, "train.jsonl")) if l.strip()]
    log = [strip_timing(l) for l in lines if "event" not in l]
    summary = json.load(open(os.path.join(out, "summary.json")))
    return {"log": log, "status": summary["status"], "step": summary["step"],
            "val_loss": summary["val_loss"], "train_loss": summary["train_loss"]}


def table_result(path, drop=("seconds", "elapsed_s", "tokens_per_s", "wall_s", "exit_code", "resumes")):
    rows = list(csv.DictReader(open(path)))
    return [{k: v for k, v in r.items() if k not in drop and not k.endswith("_s")} for r in rows]


def sweep_result(out):
    return table_result(os.path.join(out, "results.csv"))


def repro_result(out):
    tables = sorted(glob.glob(os.path.join(out, "**", "*.csv"), recursive=True))
    return {os.path.relpath(t, out): table_result(t) for t in tables} or None


class Checker:
    """What a kill may not leave behind: a half-written file."""

    def __init__(self, sigprop):
        self.sigprop = sigprop

    def check(self, folder):
        bad = []
        for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True):
            name = os.path.basename(path)
            if os.path.isdir(path) or ".tmp." in name or ".partial" in path:
                continue  # temporaries and staging folders are not results
            if name.endswith(".json"):
                try:
                    json.load(open(path))
                except (ValueError, OSError) as e:
                    bad.append(f"{path}: {e}")
            elif name.endswith(".jsonl"):
                lines = open(path).read().split("\n")
                for i, line in enumerate(lines):
                    if not line.strip():
                        continue
                    try:
                        json.loads(line)
                    except ValueError:
                        if i < len(lines) - 1 and any(l.strip() for l in lines[i + 1:]):
                            bad.append(f"{path}: line {i + 1} is not JSON")
            elif name == "checkpoint.pt":
                run = os.path.dirname(path)
                tmp = os.path.join(run, ".kill-loop-export")
                r = subprocess.run([self.sigprop, "export", run, "--out", tmp], capture_output=True,
                                   text=True)
                shutil.rmtree(tmp, ignore_errors=True)
                if r.returncode != 0:
                    bad.append(f"{path}: does not load: {r.stderr.strip()[-300:]}")
        return bad


def run_until_done(cmd, cwd, kill_at, watch=None, limit=120):
    """Starts cmd; kills it at time kill_at (or as soon as a file matching `watch` appears, when
    given). Returns (exit code or None when killed, seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    while True:
        code = p.poll()
        elapsed = time.monotonic() - t0
        if code is not None:
            err = p.stderr.read().decode(errors="replace")
            return code, elapsed, err
        hit = watch and glob.glob(watch, recursive=True)
        if (kill_at is not None and elapsed >= kill_at) or hit:
            os.killpg(p.pid, signal.SIGKILL)  # the command and every child it started
            p.wait()
            return None, elapsed, ""
        if elapsed > limit:
            os.killpg(p.pid, signal.SIGKILL)
            raise SystemExit(f"kill_loop: {cmd[1]} ran for over {limit} s")
        time.sleep(0.002)


def target(name, sigprop, root):
    """(command for folder `out`, result reader, file to watch for, cwd)"""
    if name == "train":
        return (lambda out: train_cmd(sigprop, out)), train_result, "checkpoint.pt.tmp.*"
    if name == "train-dp":  # two ranks of one data-parallel run: the whole job is killed
        return (lambda out: train_cmd(sigprop, out) + ["--nproc", "2"]), train_result, "checkpoint.pt.tmp.*"
    if name == "sweep":
        grid = os.path.join(root, "grid.toml")
        open(grid, "w").write(SWEEP_GRID)
        return (lambda out: [sigprop, "sweep", grid, "--out", out]), sweep_result, None
    if name == "repro":
        plan = os.path.join(root, "plan.toml")
        open(plan, "w").write(REPRO_PLAN)
        return (lambda out: [sigprop, "repro", plan, "--out", out]), repro_result, None
    raise SystemExit(f"kill_loop: unknown target '{name}'; allowed: train, train-dp, sweep, repro")


def loop(name, sigprop, root, kills, rng, log):
    os.makedirs(root, exist_ok=True)
    cmd, result, watch = target(name, sigprop, root)
    ref_dir = os.path.join(root, "reference")
    shutil.rmtree(ref_dir, ignore_errors=True)
    code, ref_seconds, err = run_until_done(cmd(ref_dir), root, None)
    if code != 0:
        raise SystemExit(f"kill_loop: the reference {name} failed (exit {code}): {err[-500:]}")
    reference = result(ref_dir)
    checker = Checker(sigprop)
    stats = {"target": name, "kills": 0, "kills_in_checkpoint_write": 0, "runs": 0,
             "runs_matching_reference": 0, "losses": 0, "half_written": 0, "failures": 0,
             "reference_seconds": round(ref_seconds, 2), "problems": []}
    typical = ref_seconds  # how long a whole sitting takes now (the machine's load varies)
    run = 0
    while stats["kills"] < kills:
        run += 1
        out = os.path.join(root, f"run-{run}")
        shutil.rmtree(out, ignore_errors=True)
        sittings = 0
        while True:
            sittings += 1
            at_checkpoint = watch and rng.random() < 0.5 and stats["kills"] < kills
            kill_at = None
            if stats["kills"] < kills and sittings <= 6:
                kill_at = None if at_checkpoint else rng.uniform(0, typical)
            w = os.path.join(out, watch) if at_checkpoint else None
            code, elapsed, err = run_until_done(cmd(out), root, kill_at, w)
            if code == 0 and sittings == 1:
                typical = elapsed
            if code is None:
                stats["kills"] += 1
                stats["kills_in_checkpoint_write"] += bool(w)
                bad = checker.check(out) if os.path.isdir(out) else []
                stats["half_written"] += len(bad)
                stats["problems"] += bad
                continue
            if code != 0:
                stats["failures"] += 1
                stats["problems"].append(f"run {run}: exit {code} after a kill: {err.strip()[-400:]}")
                break
            stats["runs"] += 1
            got = result(out)
            if got == reference:
                stats["runs_matching_reference"] += 1
            else:
                stats["losses"] += 1
                stats["problems"].append(f"run {run}: results differ from the reference")
            break
        log(f"[kill-loop] {name}: run {run} done, {stats['kills']}/{kills} kills, "
            f"{stats['losses']} lost, {stats['half_written']} half-written")
        shutil.rmtree(out, ignore_errors=True)
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sigprop", default=os.path.join(HERE, "..", "build", "sigprop"))
    ap.add_argument("--kills", type=int, default=50, help="kills per target")
    ap.add_argument("--targets", default="train,train-dp,sweep,repro")
    ap.add_argument("--out", default="runs/kill-loop")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.kills < 1:
        ap.error("--kills must be >= 1")
    sigprop = os.path.abspath(a.sigprop)
    if not os.access(sigprop, os.X_OK):
        ap.error(f"--sigprop {sigprop} is not an executable; build first (scripts/build.sh)")
    rng = random.Random(a.seed)
    t0 = time.monotonic()
    results = []
    for name in a.targets.split(","):
        results.append(loop(name, sigprop, os.path.join(os.path.abspath(a.out), name), a.kills, rng,
                            lambda m: print(m, file=sys.stderr, flush=True)))
    summary = {"seconds": round(time.monotonic() - t0, 1), "targets": results}
    with open(os.path.join(a.out, "kill-loop.json"), "w") as f:
        json.dump(summary, f, indent=2)
    for r in results:
        print(f"{r['target']}: {r['kills']} kills ({r['kills_in_checkpoint_write']} during a checkpoint "
              f"write), {r['runs']} runs finished, {r['runs_matching_reference']} equal to the "
              f"uninterrupted run, {r['losses']} lost, {r['half_written']} half-written files, "
              f"{r['failures']} failed resumes")
        for p in r["problems"][:10]:
            print("   ", p)
    print(f"{summary['seconds']} s; wrote {os.path.join(a.out, 'kill-loop.json')}")
    lost = sum(r["losses"] + r["half_written"] + r["failures"] for r in results)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
