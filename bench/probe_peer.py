"""The PyTorch peer of `sigprop probe` (bench case d): for each (seed, preset) it builds the model
at initialisation, runs one forward recording every hidden state X_l and attention matrix, one
backward of the training loss, and computes sigprop's per-layer metrics (src/probe/metrics.h) by
their textbook definitions: float64 copies, the same reductions, singular values by SVD and
eigenvalues by a general eigensolver (sigprop gets the same numbers by cheaper routes: every token
metric from one Gram matrix, σ's from eigenvalues of Gram matrices, a causal A's eigenvalues from
its diagonal; docs/performance.md). The test Probe.MetricsMatchTextbookDefinitionsInPyTorch holds
sigprop's probe to this file's --parity mode.

Usage: .venv/bin/python bench/probe_peer.py CASE_DIR THREADS
Reads CASE_DIR/probe.json ({"runs": [{"preset", "seed", "model"}, ...]} in sigprop's run order)
and CASE_DIR/probe_inputs.safetensors ("input.<seed>", "target.<seed>": (B, T) int64), and prints one JSON
line: {"seconds": [the whole job], "rows": [the final layer's metrics of each run]}.

Usage: .venv/bin/python bench/probe_peer.py --parity DIR
Reads DIR/spec.json and DIR/inputs.safetensors as tests/parity/reference.py does (parameters by sigprop's
names, "input", "target"), probes those weights (no init) and writes DIR/probe_reference.json:
{"layers": [{"layer": 0, "cosine": ...}, ...]}, null where sigprop writes NaN.
The model is tests/parity/reference.py's Transformer, the one the parity tests hold sigprop to.
"""
import json
import math
import os
import sys
import time

import torch
from safetensors.torch import load_file
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "parity"))
from reference import Transformer, initialise  # noqa: E402

from peak_rss import peak_rss_mib  # noqa: E402  (this folder is on sys.path)

NAN = float("nan")


# The metrics of src/probe/metrics.cpp. X: (B, T, d) hidden states; A: (B, H, T, T). Each is the
# mean over the batch (and heads), in float64.

def mean_token_cosine(X):
    """Mean over i != j of <x_i, x_j> / (|x_i| |x_j|): -> 1 under rank collapse."""
    X = X.detach().double()
    T = X.shape[1]
    if T < 2:
        return 1.0
    U = X / X.norm(dim=-1, keepdim=True).clamp_min(1e-300)
    G = U @ U.transpose(1, 2)  # (B, T, T) cosines
    off = G.sum((1, 2)) - G.diagonal(0, 1, 2).sum(-1)
    return (off / (T * (T - 1))).mean().item()


def token_similarity(X):
    """t_sim = T |x̄|^2 / |X|_F^2 (paper 000)."""
    X = X.detach().double()
    T = X.shape[1]
    return (T * X.mean(1).pow(2).sum(-1) / X.pow(2).sum((-2, -1)).clamp_min(1e-300)).mean().item()


def collapse_residual(X):
    """res = |X - 1 x̄^T|_F / |X|_F, the distance to the collapsed matrix."""
    X = X.detach().double()
    centred = X - X.mean(1, keepdim=True)
    return (centred.pow(2).sum((-2, -1)).sqrt()
            / X.pow(2).sum((-2, -1)).sqrt().clamp_min(1e-300)).mean().item()


def stable_rank(X):
    """|X|_F^2 / |X|_2^2."""
    s = torch.linalg.svdvals(X.detach().double())
    return (s.pow(2).sum(-1) / s[..., 0].pow(2).clamp_min(1e-300)).mean().item()


def gram_stable_rank(X):
    """|X X^T|_F^2 / |X X^T|_2^2 = sum s^4 / s_1^4 (paper 003's code)."""
    s2 = torch.linalg.svdvals(X.detach().double()).pow(2)
    return (s2.pow(2).sum(-1) / s2[..., 0].pow(2).clamp_min(1e-300)).mean().item()


def centred_stable_rank(X):
    """sr((I - Pi) X): the stable rank of the tokens minus their mean token."""
    X = X.detach().double()
    return stable_rank(X - X.mean(1, keepdim=True))


def attention_spectrum(A):
    """sigma1, sigma2 (singular values), lambda2 (second largest |eigenvalue|), row entropy
    (nats; NaN when A has negative entries)."""
    A = A.detach().double().flatten(0, 1)  # (B*H, T, T)
    T = A.shape[-1]
    s = torch.linalg.svdvals(A)
    sigma1 = s[..., 0].mean().item()
    sigma2 = s[..., 1].mean().item() if T > 1 else 0.0
    lambda2 = 0.0
    if T > 1:
        lambda2 = torch.linalg.eigvals(A).abs().sort(-1, descending=True).values[..., 1].mean().item()
    if (A < 0).any():
        entropy = NAN
    else:
        plogp = torch.where(A > 0, A * A.log(), torch.zeros_like(A))
        entropy = (-plogp.sum(-1)).mean().item()
    return sigma1, sigma2, lambda2, entropy


def grad_norm(linear):
    g = linear.weight.grad
    return g.norm().item() if g is not None else 0.0


def probe(model, x, y):
    """One forward and backward of the training loss, then every layer's metrics: L+1 dicts."""
    model.zero_grad()
    trace = {"hidden": [], "attn": []}
    out = model(x, trace)
    loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    loss.backward()
    loss = loss.item()
    rows = []
    for l, X in enumerate(trace["hidden"]):
        r = {"layer": l, "cosine": mean_token_cosine(X), "t_sim": token_similarity(X),
             "res": collapse_residual(X), "stable_rank": stable_rank(X),
             "gram_stable_rank": gram_stable_rank(X), "centred_stable_rank": centred_stable_rank(X)}
        if l == 0:  # the embedded input has no attention and no weights of its own
            for key in ("attn_sigma1", "attn_sigma2", "attn_lambda2", "attn_entropy",
                        "grad_q", "grad_k", "grad_v", "grad_o", "grad_mlp"):
                r[key] = NAN
        else:
            r["attn_sigma1"], r["attn_sigma2"], r["attn_lambda2"], r["attn_entropy"] = \
                attention_spectrum(trace["attn"][l - 1])
            block = model.blocks[l - 1]
            r["grad_q"] = grad_norm(block.attn.w_q)
            r["grad_k"] = grad_norm(block.attn.w_k)
            r["grad_v"] = grad_norm(block.attn.w_v)
            r["grad_o"] = grad_norm(block.attn.w_o)
            r["grad_mlp"] = (math.hypot(grad_norm(block.mlp.fc1), grad_norm(block.mlp.fc2))
                             if block.mlp is not None else NAN)
        r["loss"] = loss
        rows.append(r)
    model.zero_grad()
    return rows


def json_ready(row):
    """NaN -> None, so the JSON has null where sigprop's CSV has NaN."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def main(case_dir, threads):
    torch.set_num_threads(threads)
    runs = json.load(open(os.path.join(case_dir, "probe.json")))["runs"]
    batches = load_file(os.path.join(case_dir, "probe_inputs.safetensors"))
    t0 = time.perf_counter()
    rows = []
    for run in runs:
        seed = run["seed"]
        torch.manual_seed(seed)
        model = Transformer(run["model"])
        initialise(model)
        final = probe(model, batches[f"input.{seed}"], batches[f"target.{seed}"])[-1]
        rows.append(json_ready({"preset": run["preset"], "seed": seed, **final}))
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": [seconds], "rows": rows, "peak_rss_mib": peak_rss_mib()}))


def parity(folder):
    torch.set_num_threads(1)
    spec = json.load(open(os.path.join(folder, "spec.json")))["model"]
    data = load_file(os.path.join(folder, "inputs.safetensors"))
    model = Transformer(spec)
    model.load_state_dict({k: v for k, v in data.items() if k not in ("input", "target")}, strict=True)
    layers = [json_ready(r) for r in probe(model, data["input"], data["target"])]
    with open(os.path.join(folder, "probe_reference.json"), "w") as f:
        json.dump({"layers": layers}, f)


if __name__ == "__main__":
    if sys.argv[1] == "--parity":
        parity(sys.argv[2])
    else:
        main(sys.argv[1], int(sys.argv[2]))
