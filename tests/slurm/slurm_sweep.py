"""A sweep through a real Slurm equals the same sweep run locally.

Starts a single-node cluster (scripts/slurm-local.sh: munged, slurmctld, slurmd on 127.0.0.1),
runs a 4-cell training sweep with `sigprop sweep --slurm --wait` (one array task per cell), runs
it again with the local scheduler, and checks the two results.csv agree cell by cell (every
number but the timings, to 1e-6 relative: one thread per cell on both sides). Then a 2-cell sweep
with one broken cell: the merged table keeps that cell's row with outcome "failed" and its error,
and the command exits non-zero naming it. The daemons are stopped whatever happens; if they
cannot start, the test fails with their own logs.
"""
import argparse
import csv
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
TIMINGS = {"seconds", "tokens_per_s", "cell"}

GRID = """command = "train"
[fixed]
data = "synthetic"
steps = 30
width = 32
heads = 2
seq = 16
batch = 4
eval-every = 0
eval-batches = 2
checkpoint-every = 0
[grid]
preset = ["pre-ln", "post-ln"]
depth = [1, 2]
"""

BROKEN = """command = "probe"
[fixed]
width = 16
seq = 8
batch = 1
seeds = 1
input = "gaussian"
no-plot = true
[grid]
heads = [2, 3]
"""


def table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def same(a, b):
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    return abs(x - y) <= 1e-6 * max(1.0, abs(x), abs(y))


def sigprop(args, env, check=True):
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sigprop", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    out = pathlib.Path(a.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cluster = out / "cluster"
    start = subprocess.run([str(ROOT / "scripts/slurm-local.sh"), "start", str(cluster)],
                           capture_output=True, text=True)
    try:
        if start.returncode != 0:
            sys.exit(f"FAIL: the Slurm daemons did not start:\n{start.stdout}\n{start.stderr}")
        env = dict(os.environ, SLURM_CONF=str(cluster / "slurm.conf"))
        (out / "grid.toml").write_text(GRID)
        r = sigprop([a.sigprop, "sweep", str(out / "grid.toml"), "--out", str(out / "slurm-sweep"),
                     "--slurm", "--wait", "--cpus-per-task", "1"], env)
        assert "merged 4 of 4 cells" in r.stdout, r.stdout + r.stderr
        assert "array tasks, one per cell" in r.stderr, r.stderr
        script = (out / "slurm-sweep/slurm/array.sh").read_text()
        assert "#SBATCH --array=0-3" in script, script
        sigprop([a.sigprop, "sweep", str(out / "grid.toml"), "--out", str(out / "local-sweep"),
                 "--jobs", "2"], dict(env, SIGPROP_THREADS="2"))
        via_slurm = table(out / "slurm-sweep/results.csv")
        local = table(out / "local-sweep/results.csv")
        assert len(via_slurm) == len(local) == 4, (via_slurm, local)
        for s, l in zip(via_slurm, local):
            assert s["outcome"] == "done", s
            assert set(s) == set(l), (sorted(s), sorted(l))
            for k in s:
                if k not in TIMINGS:
                    assert same(s[k], l[k]), f"cell {s['cell']} column {k}: Slurm {s[k]} local {l[k]}"
        assert float(via_slurm[0]["train_loss"]) > 0

        (out / "broken.toml").write_text(BROKEN)
        r = sigprop([a.sigprop, "sweep", str(out / "broken.toml"), "--out", str(out / "broken-sweep"),
                     "--slurm", "--wait"], env, check=False)
        assert r.returncode != 0, r.stdout + r.stderr
        assert "failed:" in r.stderr and "heads=3" in r.stderr, r.stderr
        rows = {row["heads"]: row for row in table(out / "broken-sweep/results.csv")}
        assert rows["2"]["outcome"] == "done", rows
        assert rows["3"]["outcome"] == "failed" and rows["3"]["exit_code"] == "2", rows
        assert "model.heads" in rows["3"]["error"], rows["3"]
        print("ok: 4 cells through Slurm equal the local sweep; a failed cell keeps its row and message")
    finally:
        subprocess.run([str(ROOT / "scripts/slurm-local.sh"), "stop", str(cluster)])


if __name__ == "__main__":
    main()
