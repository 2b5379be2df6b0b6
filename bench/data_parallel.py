"""Data-parallel scaling on this machine: sigprop's c10d trainer against PyTorch's
DistributedDataParallel, one thread per process, 1 and 2 processes, side by side in one run.

Usage: .venv/bin/python bench/data_parallel.py --sigprop build/sigprop [--steps 80] [--out DIR]

sigprop side: `sigprop train --nproc N` on KJV (the run's summary.json gives tokens/s of the
global batch and allreduce_share, rank 0's share of training time spent averaging gradients).
PyTorch side: tests/parity/reference.py's Transformer of the same config (the model the parity
tests hold sigprop to) under DDP with Gloo over loopback, AdamW and clipping as sigprop does, on
random tokens of the same shapes; the all-reduce share is measured as the step time DDP adds
over the same ranks' no_sync() steps. Prints a table and writes DIR/data_parallel.json.
Scaling efficiency = tokens/s at 2 processes / (2 x tokens/s at 1).
"""
import argparse
import contextlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "parity"))
from reference import Transformer  # noqa: E402


def sigprop_run(exe, args, nproc, steps, out):
    folder = out / f"sigprop-{nproc}"
    cmd = [exe, "train", *args, "--steps", str(steps), "--out", str(folder), "--force",
           "--eval-every", "0", "--eval-batches", "1", "--checkpoint-every", "0", "--log-every", "10"]
    if nproc > 1:
        cmd += ["--nproc", str(nproc)]
    env = dict(os.environ, SIGPROP_THREADS=str(nproc))  # --nproc splits it: one thread per rank
    shutil.rmtree(folder, ignore_errors=True)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stderr}")
    summary = json.load(open(folder / "summary.json"))
    config = json.load(open(folder / "run.json"))["config"]["model"]
    return summary, config


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ddp_worker(rank, world, port, m, batch, seq, steps, warmup, result):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    model = Transformer(m)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    share = batch // world
    x = torch.randint(0, m["vocab_size"], (share, seq))
    y = torch.randint(0, m["vocab_size"], (share, seq))

    def step(sync):
        opt.zero_grad()
        with net.no_sync() if (world > 1 and not sync) else contextlib.nullcontext():
            out = net(x)
            loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    times = {True: [], False: []}
    for i in range(warmup + steps):
        for sync in ((True, False) if world > 1 else (True,)):
            if world > 1:
                dist.barrier()
            t0 = time.perf_counter()
            step(sync)
            if i >= warmup:
                times[sync].append(time.perf_counter() - t0)
    if rank == 0:
        result.put({s: sorted(v)[len(v) // 2] for s, v in times.items() if v})
    if world > 1:
        dist.destroy_process_group()


def ddp_run(m, batch, seq, steps, world):
    ctx = mp.get_context("spawn")
    result = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=ddp_worker, args=(r, world, port, m, batch, seq, steps, 5, result))
             for r in range(world)]
    for p in procs:
        p.start()
    medians = result.get(timeout=1800)
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"DDP rank exited {p.exitcode}")
    step_s = medians[True]
    share = (step_s - medians[False]) / step_s if False in medians else 0.0
    return {"tokens_per_s": batch * seq / step_s, "allreduce_share": max(share, 0.0), "median_step_s": step_s}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sigprop", required=True)
    p.add_argument("--steps", type=int, default=80)
    p.add_argument("--out", default="runs/bench-dp")
    p.add_argument("--depth", type=int, default=8)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=64)
    a = p.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    args = ["--preset", "pre-ln", "--data", "kjv", "--depth", str(a.depth), "--width", str(a.width),
            "--batch", str(a.batch), "--seq", str(a.seq)]
    rows = {}
    for n in (1, 2):
        summary, m = sigprop_run(a.sigprop, args, n, a.steps, out)
        rows[f"sigprop-{n}"] = {"tokens_per_s": summary["tokens_per_s"],
                                "allreduce_share": summary.get("allreduce_share", 0.0)}
        rows[f"pytorch-ddp-{n}"] = ddp_run(m, a.batch, a.seq, a.steps, n)
        print(f"{n} process(es): sigprop {rows[f'sigprop-{n}']['tokens_per_s']:.0f} tokens/s, "
              f"PyTorch {rows[f'pytorch-ddp-{n}']['tokens_per_s']:.0f} tokens/s", file=sys.stderr)
    report = {"config": {**vars(a), "preset": "pre-ln", "threads_per_process": 1}, "rows": rows}
    for side in ("sigprop", "pytorch-ddp"):
        one, two = rows[f"{side}-1"]["tokens_per_s"], rows[f"{side}-2"]["tokens_per_s"]
        report[f"{side}_scaling_efficiency"] = two / (2 * one)
    report["ratio_sigprop_over_pytorch"] = {
        n: rows[f"sigprop-{n}"]["tokens_per_s"] / rows[f"pytorch-ddp-{n}"]["tokens_per_s"] for n in (1, 2)}
    (out / "data_parallel.json").write_text(json.dumps(report, indent=2) + "\n")
    print("| processes | sigprop tokens/s | PyTorch DDP tokens/s | sigprop / PyTorch | sigprop all-reduce share | DDP all-reduce share |")
    print("|---|---|---|---|---|---|")
    for n in (1, 2):
        s, t = rows[f"sigprop-{n}"], rows[f"pytorch-ddp-{n}"]
        print(f"| {n} | {s['tokens_per_s']:.0f} | {t['tokens_per_s']:.0f} | {s['tokens_per_s'] / t['tokens_per_s']:.2f}x "
              f"| {100 * s['allreduce_share']:.1f} % | {100 * t['allreduce_share']:.1f} % |")
    print(f"scaling efficiency: sigprop {100 * report['sigprop_scaling_efficiency']:.0f} %, "
          f"PyTorch DDP {100 * report['pytorch-ddp_scaling_efficiency']:.0f} %")


if __name__ == "__main__":
    main()
