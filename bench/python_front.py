"""The Python front's benchmark cases (`sigprop bench` nn-* and py-probe), one side per process.

Usage: .venv/bin/python bench/python_front.py SIDE CASE_DIR THREADS [PACKAGE_DIR]
SIDE is sigprop (the sigprop package, from PACKAGE_DIR when given) or pytorch (plain PyTorch
eager, nothing of sigprop's). CASE_DIR/case.json says the work:
  {"kind": "attention", "variant", "width", "heads", "seq", "batch", "warmup", "steps"}:
      forward + backward of one self-attention module on a (batch, seq, width) input, causal.
      The peer is the same module written in eager PyTorch with its constant matrices made
      once (E-SPA's A_l, the uniform matrices), not per call: the strongest plain version.
  {"kind": "probe", "model", "depth", "width", "heads", "seq", "batch", "repeats"}:
      the per-layer probe of `model`: "encoder", a post-norm nn.TransformerEncoder (dropout
      0.1, probed in eval mode), or "gpt2", transformers' GPT2LMHeadModel from its config
      (random weights, default attention implementation) on random token ids. sigprop:
      sigprop.probe, with and without attention spectra, and one forward + backward of the same
      loss for scale. pytorch: for the encoder, the same metrics by their textbook definitions
      (bench/probe_peer.py's functions: float64, SVDs, a general eigensolver); for GPT-2, one
      forward + backward and the last block's token cosine by its definition.
Prints one JSON line: {"seconds": [...], "peak_rss_mib": ..., ...}.
"""
import json
import math
import os
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peak_rss import peak_rss_mib  # noqa: E402


def spa_matrix(variant, depth, layer, T, gamma=0.005, rho=0.8):
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "parity"))
    import reference
    m = {"depth": depth, "attention": variant, "espa_gamma": gamma, "uspa_rho": rho, "causal": True}
    return reference.spa_matrix(m, T, layer + 1)


class EagerAttention(nn.Module):
    """out = concat_h(A_h V_h) W_O with A = r·softmax(s QKᵀ + B) + C (masked causally), the
    variants' constants B, r, C built once for T tokens; value_skipinit: αI + βA."""

    def __init__(self, variant, d, h, T, depth=16, layer=8):
        super().__init__()
        self.h, self.dk, self.variant = h, d // h, variant
        self.w_q, self.w_k, self.w_v, self.w_o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.scale = 1 / math.sqrt(self.dk)
        U = torch.ones(T, T).tril() / torch.arange(1, T + 1).unsqueeze(1)  # uniform causal
        self.bias = self.rows = self.offset = None
        if variant == "shaped":
            self.scale = 1 / math.sqrt(d * self.dk)
            self.offset = torch.eye(T) - U
        if variant == "gap_removed":
            self.offset = -U
        if variant in ("espa", "uspa"):
            A = spa_matrix(variant, depth, layer, T)
            r = A.sum(-1, keepdim=True)
            self.bias, self.rows = torch.log((A / r).clamp_min(0)).float(), r.float()
        if variant == "value_skipinit":
            self.alpha, self.beta = nn.Parameter(torch.ones(1)), nn.Parameter(torch.zeros(1))
        self.register_buffer("mask", torch.ones(T, T, dtype=torch.bool).triu(1))

    def forward(self, x):
        B, T, d = x.shape
        q, k, v = (w(x).view(B, T, self.h, self.dk).transpose(1, 2) for w in (self.w_q, self.w_k, self.w_v))
        logits = self.scale * q @ k.transpose(-2, -1)
        if self.bias is not None:
            logits = logits + self.bias
        a = logits.masked_fill(self.mask, float("-inf")).softmax(-1)
        if self.rows is not None:
            a = self.rows * a
        if self.offset is not None:
            a = a + self.offset
        if self.variant == "value_skipinit":
            a = self.alpha * torch.eye(T) + self.beta * a
        return self.w_o((a @ v).transpose(1, 2).reshape(B, T, d))


def sigprop_attention(sigprop, variant, d, h, T):
    nn_ = sigprop.nn
    if variant == "espa":
        return nn_.ESPAAttention(d, h, layer=8, depth=16, max_seq=T)
    if variant == "uspa":
        return nn_.USPAAttention(d, h, layer=8, depth=16, max_seq=T)
    return {"softmax": nn_.SoftmaxAttention, "shaped": nn_.ShapedAttention,
            "value_skipinit": nn_.ValueSkipInitAttention,
            "gap_removed": nn_.GapRemovedAttention}[variant](d, h, max_seq=T)


def time_attention(side, c, sigprop):
    d, h, T, B = c["width"], c["heads"], c["seq"], c["batch"]
    torch.manual_seed(0)
    m = sigprop_attention(sigprop, c["variant"], d, h, T) if side == "sigprop" else \
        EagerAttention(c["variant"], d, h, T)
    with torch.no_grad():
        m.w_q.weight.normal_(0, 1 / math.sqrt(d))  # live logits (SPA variants start at W_Q = 0)
    x = torch.randn(B, T, d, requires_grad=True)
    g = torch.randn(B, T, d)
    times = []
    for step in range(c["warmup"] + c["steps"]):
        t0 = time.perf_counter()
        m(x).backward(g)
        if step >= c["warmup"]:
            times.append(time.perf_counter() - t0)
        for p in list(m.parameters()) + [x]:
            p.grad = None
    return {"seconds": times}


def encoder(c):
    layer = nn.TransformerEncoderLayer(c["width"], c["heads"], dim_feedforward=4 * c["width"],
                                       batch_first=True)
    return nn.TransformerEncoder(layer, c["depth"], enable_nested_tensor=False)


def textbook_probe(model, x, target):
    """The probe's metrics of every layer by their definitions (bench/probe_peer.py)."""
    import probe_peer as P
    layers = list(model.layers)
    hidden, attn = [], []

    def block_in(m, a):
        hidden.append(a[0].detach())

    def block_out(m, i, o):
        hidden.append(o.detach())

    def attn_in(m, a, l=None):
        q_in = a[0]
        d = m.embed_dim
        with torch.no_grad():
            q = F.linear(q_in, m.in_proj_weight[:d], m.in_proj_bias[:d])
            k = F.linear(q_in, m.in_proj_weight[d:2 * d], m.in_proj_bias[d:2 * d])
            B, T, _ = q.shape
            H, dk = m.num_heads, d // m.num_heads
            q = q.view(B, T, H, dk).transpose(1, 2)
            k = k.view(B, T, H, dk).transpose(1, 2)
            attn.append((q @ k.transpose(-2, -1) / math.sqrt(dk)).softmax(-1))

    handles = [layers[0].register_forward_pre_hook(block_in)]
    for b in layers:
        handles.append(b.register_forward_hook(block_out))
        handles.append(b.self_attn.register_forward_pre_hook(attn_in))
    model.eval()
    model.zero_grad()
    out = model(x)
    loss = 0.5 * (out - target).pow(2).mean()
    loss.backward()
    for hd in handles:
        hd.remove()
    rows = []
    for l, X in enumerate(hidden):
        r = {"layer": l, "cosine": P.mean_token_cosine(X), "t_sim": P.token_similarity(X),
             "res": P.collapse_residual(X), "stable_rank": P.stable_rank(X),
             "gram_stable_rank": P.gram_stable_rank(X), "centred_stable_rank": P.centred_stable_rank(X)}
        if l:
            r["attn_sigma1"], r["attn_sigma2"], r["attn_lambda2"], r["attn_entropy"] = \
                P.attention_spectrum(attn[l - 1])
            b = layers[l - 1]
            d = b.self_attn.embed_dim
            g = b.self_attn.in_proj_weight.grad
            r["grad_q"], r["grad_k"], r["grad_v"] = (g[i * d:(i + 1) * d].norm().item() for i in range(3))
            r["grad_o"] = b.self_attn.out_proj.weight.grad.norm().item()
            r["grad_mlp"] = math.hypot(b.linear1.weight.grad.norm().item(), b.linear2.weight.grad.norm().item())
        rows.append(r)
    return rows


def gpt2(c):
    import transformers
    transformers.logging.set_verbosity_error()
    config = transformers.GPT2Config(n_layer=c["depth"], n_embd=c["width"], n_head=c["heads"],
                                     n_positions=c["seq"])
    return transformers.GPT2LMHeadModel(config)


def gpt2_peer(model, ids, target):
    """One forward + backward of the probe's loss, and the last block's mean token cosine."""
    import probe_peer as P
    last = []
    handle = model.transformer.h[-1].register_forward_hook(lambda m, i, o: last.append(
        (o[0] if isinstance(o, tuple) else o).detach()))
    model.eval()
    (0.5 * (model(input_ids=ids).logits - target).pow(2).mean()).backward()
    handle.remove()
    model.zero_grad()
    return [{"cosine": P.mean_token_cosine(last[0])}]


def time_probe(side, c, sigprop):
    torch.manual_seed(0)
    if c.get("model", "encoder") == "gpt2":
        model = gpt2(c)
        x = torch.randint(0, model.config.vocab_size, (c["batch"], c["seq"]))
        shape, inputs = (c["batch"], c["seq"], model.config.vocab_size), {"input_ids": x}
        peer = gpt2_peer
    else:
        model = encoder(c)
        x = torch.randn(c["batch"], c["seq"], c["width"])
        shape, inputs, peer = x.shape, x, textbook_probe
    target = torch.randn(shape, generator=torch.Generator().manual_seed(0))  # sigprop.probe's
    out = {"seconds": []}
    if side == "sigprop":
        out["fwd_bwd_seconds"], out["no_spectra_seconds"] = [], []
    for _ in range(c["repeats"]):
        t0 = time.perf_counter()
        if side == "sigprop":
            rows = sigprop.probe(model, inputs).rows
        else:
            rows = peer(model, x, target)
        out["seconds"].append(time.perf_counter() - t0)
        if side == "sigprop":
            t0 = time.perf_counter()
            sigprop.probe(model, inputs, spectra=False)
            out["no_spectra_seconds"].append(time.perf_counter() - t0)
            model.eval()
            t0 = time.perf_counter()
            y = model(**inputs).logits if isinstance(inputs, dict) else model(x)
            (0.5 * (y - target).pow(2).mean()).backward()
            out["fwd_bwd_seconds"].append(time.perf_counter() - t0)
            model.zero_grad()
    out["final_cosine"] = rows[-1]["cosine"]
    return out


def main(side, case_dir, threads, package=None):
    torch.set_num_threads(threads)
    c = json.load(open(os.path.join(case_dir, "case.json")))
    sigprop = None
    if side == "sigprop":
        if package:
            sys.path.insert(0, package)
        import sigprop
    elif side != "pytorch":
        sys.exit(f"python_front.py: SIDE must be sigprop or pytorch, not {side!r}")
    result = (time_attention if c["kind"] == "attention" else time_probe)(side, c, sigprop)
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) == 5 else None)
