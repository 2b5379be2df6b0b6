"""The PyTorch peer of `sigprop bench`: the same model, weights, batch and optimiser as sigprop's
side, timed the same way, so the ratio measures the two implementations and nothing else.

Usage: /usr/bin/python3 bench/peer.py CASE_DIR THREADS
Reads CASE_DIR/spec.json and CASE_DIR/inputs.pt (written by `sigprop bench`), runs the case's
untimed warm-up and timed training steps (AdamW, clip, one batch), and prints one JSON line:
{"seconds": [...per timed step...]}.
The model is tests/parity/reference.py's Transformer, the one the parity tests hold sigprop to.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "parity"))
from reference import Transformer  # noqa: E402

from peak_rss import peak_rss_mib  # noqa: E402  (this folder is on sys.path)


def main(case_dir, threads):
    torch.set_num_threads(threads)
    spec = json.load(open(os.path.join(case_dir, "spec.json")))
    m, t, case = spec["model"], spec["train"], spec["case"]
    data = torch.load(os.path.join(case_dir, "inputs.pt"))
    model = Transformer(m)
    model.load_state_dict({k: v for k, v in data.items() if k not in ("input", "target")})
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=t["lr"], weight_decay=t["weight_decay"])
    x, y = data["input"], data["target"]
    seconds = []
    for step in range(case["warmup"] + case["steps"]):
        t0 = time.perf_counter()
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, t["clip"])
        loss_value = loss.item()
        opt.step()
        dt = time.perf_counter() - t0
        if not torch.isfinite(torch.tensor(loss_value)):
            raise SystemExit(f"benchmark step {step} was not finite")
        if step >= case["warmup"]:
            seconds.append(dt)
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
