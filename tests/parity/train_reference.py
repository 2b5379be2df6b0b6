"""PyTorch reference of `sigprop train`: the same model, initial weights, batches and
hyper-parameters, trained with torch.optim; writes the loss of every step.

Usage: .venv/bin/python train_reference.py DIR
Reads DIR/spec.json ({"model": ..., "train": ...}), DIR/inputs.safetensors (initial parameters by
sigprop's names, "inputs" (S, B, T), "targets" (S, B, T)); writes DIR/losses.safetensors (S,) float64.
"""
import json
import math
import sys

import torch
from safetensors.torch import load_file, save_file
import torch.nn.functional as F

from reference import Transformer


def lr_at(t, step):
    """Linear warm-up, then cosine to lr * min_lr_ratio, or constant."""
    if step < t["warmup"]:
        return t["lr"] * (step + 1) / t["warmup"]
    if t["schedule"] == "constant":
        return t["lr"]
    span = max(1, t["steps"] - t["warmup"])
    progress = min(1.0, (step - t["warmup"]) / span)
    low = t["lr"] * t["min_lr_ratio"]
    return low + 0.5 * (t["lr"] - low) * (1 + math.cos(math.pi * progress))


def main(folder):
    spec = json.load(open(f"{folder}/spec.json"))
    m, t = spec["model"], spec["train"]
    data = load_file(f"{folder}/inputs.safetensors")
    model = Transformer(m)
    model.load_state_dict({k: v for k, v in data.items() if k not in ("inputs", "targets")})
    params = list(model.parameters())
    if t["optimizer"] == "adamw":
        opt = torch.optim.AdamW(params, lr=t["lr"], weight_decay=t["weight_decay"])
    elif t["optimizer"] == "adam":
        opt = torch.optim.Adam(params, lr=t["lr"], weight_decay=t["weight_decay"])
    else:
        opt = torch.optim.SGD(params, lr=t["lr"], momentum=t["momentum"], weight_decay=t["weight_decay"])
    losses = []
    for step in range(data["inputs"].shape[0]):
        for g in opt.param_groups:
            g["lr"] = lr_at(t, step)
        opt.zero_grad()
        out = model(data["inputs"][step])
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), data["targets"][step].reshape(-1))
        loss.backward()
        if t["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(params, t["clip"])
        opt.step()
        losses.append(loss.item())
    save_file({"losses": torch.tensor(losses, dtype=torch.float64),
               "steps": torch.arange(1, len(losses) + 1)}, f"{folder}/losses.safetensors")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1])
