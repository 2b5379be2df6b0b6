"""The PyTorch peers of `sigprop bench`'s training cases: the same model, weights, batch and
optimiser as sigprop's side, timed the same way, written as a PyTorch 2.x user would write them
today, so the ratio measures the two implementations and nothing else.

Usage: .venv/bin/python bench/peer.py CASE_DIR THREADS MODE [DEVICE]
MODE eager:   attention through F.scaled_dot_product_attention (softmax and shaped attention;
              tests/parity/reference.py's explicit A elsewhere), torch.optim.AdamW(fused=True).
MODE compile: the same model under torch.compile (default mode); compilation happens in the
              untimed warm-up steps.
Reads CASE_DIR/spec.json and CASE_DIR/inputs.safetensors (written by `sigprop bench`), runs the
case's untimed warm-up and timed training steps (AdamW, clip, one batch), and prints one JSON line:
{"seconds": [...per timed step...], "peak_rss_mib": ..., "first_loss": ..., "last_loss": ...}.
The model is tests/parity/reference.py's Transformer, the one the parity tests hold sigprop to.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "parity"))
from reference import Attention, Transformer  # noqa: E402

from peak_rss import peak_rss_mib  # noqa: E402  (this folder is on sys.path)


def main(case_dir, threads, mode, device):
    if mode not in ("eager", "compile"):
        raise SystemExit(f"peer.py: MODE '{mode}' is not allowed: expected eager or compile")
    torch.set_num_threads(threads)
    spec = json.load(open(os.path.join(case_dir, "spec.json")))
    m, t, case = spec["model"], spec["train"], spec["case"]
    data = load_file(os.path.join(case_dir, "inputs.safetensors"))
    model = Transformer(m)
    model.load_state_dict({k: v for k, v in data.items() if k not in ("input", "target")})
    model.to(device)
    for module in model.modules():
        if isinstance(module, Attention):
            module.sdpa = True
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=t["lr"], weight_decay=t["weight_decay"], fused=True)
    forward = torch.compile(model) if mode == "compile" else model
    x, y = data["input"].to(device), data["target"].to(device)
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    seconds, losses = [], []
    for step in range(case["warmup"] + case["steps"]):
        t0 = time.perf_counter()
        opt.zero_grad()
        out = forward(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, t["clip"])
        loss_value = loss.item()
        opt.step()
        sync()
        dt = time.perf_counter() - t0
        if not torch.isfinite(torch.tensor(loss_value)):
            raise SystemExit(f"benchmark step {step} was not finite")
        losses.append(loss_value)
        if step >= case["warmup"]:
            seconds.append(dt)
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_rss_mib(), "first_loss": losses[0],
                      "last_loss": losses[-1]}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "eager",
         sys.argv[4] if len(sys.argv) > 4 else "cpu")
