"""PyTorch reference of sigprop's transformer, for parity tests (llm.c style).

Usage: /usr/bin/python3 reference.py DIR
Reads DIR/spec.json (sigprop's resolved config) and DIR/inputs.pt (parameters by sigprop's names,
plus "input" and "target"), runs one forward and backward of the training loss, and writes
DIR/reference.pt: "output", "loss" and "grad.<name>" for every parameter.
The model is written from the equations (model/block.h), not translated from the C++.
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def make_norm(m):
    return RMSNorm(m["width"]) if m["norm_kind"] == "rmsnorm" else nn.LayerNorm(m["width"], eps=1e-5)


class Attention(nn.Module):
    def __init__(self, m):
        super().__init__()
        d, h = m["width"], m["heads"]
        self.h, self.dk = h, (m["d_k"] or d // h)
        self.w_q = nn.Linear(d, h * self.dk, bias=False)
        self.w_k = nn.Linear(d, h * self.dk, bias=False)
        self.w_v = nn.Linear(d, d, bias=False)
        self.w_o = nn.Linear(d, d, bias=False)
        self.causal, self.variant = m["causal"], m["attention"]

    def forward(self, x):
        B, T, d = x.shape
        q = self.w_q(x).view(B, T, self.h, self.dk).transpose(1, 2)
        k = self.w_k(x).view(B, T, self.h, self.dk).transpose(1, 2)
        v = self.w_v(x).view(B, T, self.h, d // self.h).transpose(1, 2)
        logits = q @ k.transpose(-2, -1) / math.sqrt(self.dk)
        if self.variant == "uniform":
            logits = torch.zeros_like(logits)
        if self.causal:
            mask = torch.ones(T, T, dtype=torch.bool).triu(1)
            logits = logits.masked_fill(mask, float("-inf"))
        a = torch.softmax(logits, -1)
        return self.w_o((a @ v).transpose(1, 2).reshape(B, T, d))


class MLP(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.fc1 = nn.Linear(m["width"], m["mlp_width"])
        self.fc2 = nn.Linear(m["mlp_width"], m["width"])
        self.act, self.slope = m["activation"], m["leaky_slope"]

    def forward(self, x):
        h = self.fc1(x)
        h = {"relu": F.relu, "gelu": F.gelu}.get(self.act, lambda t: F.leaky_relu(t, self.slope))(h)
        return self.fc2(h)


class Block(nn.Module):
    """Z = X + a*Attn(X), Y = Z + a*MLP(Z); post-norm after each sum, pre-norm in each branch."""

    def __init__(self, m):
        super().__init__()
        self.place = m["norm"]
        r = m["residual"]
        self.skip = r != "none"
        self.alpha = 1 / math.sqrt(m["depth"]) if r == "1/sqrt(L)" else (1.0 if r == "none" else r)
        self.attn = Attention(m)
        self.mlp = MLP(m) if m["mlp_width"] > 0 else None
        if self.place != "none":
            self.ln_1 = make_norm(m)
            if self.mlp is not None:
                self.ln_2 = make_norm(m)

    def res(self, x, branch):
        return x + self.alpha * branch if self.skip else branch

    def forward(self, x):
        pre, post = self.place == "pre", self.place == "post"
        h = self.res(x, self.attn(self.ln_1(x) if pre else x))
        if post:
            h = self.ln_1(h)
        if self.mlp is None:
            return h
        y = self.res(h, self.mlp(self.ln_2(h) if pre else h))
        return self.ln_2(y) if post else y


class Transformer(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m
        assert m["input"] == "tokens" and m["positional"] in ("learned", "none")
        self.wte = nn.Embedding(m["vocab_size"], m["width"])
        if m["positional"] == "learned":
            self.wpe = nn.Embedding(m["max_seq"], m["width"])
        self.blocks = nn.ModuleList(Block(m) for _ in range(m["depth"]))
        if m["norm"] == "pre":
            self.ln_f = make_norm(m)
        self.head = nn.Linear(m["width"], m["vocab_size"], bias=False)

    def forward(self, idx):
        x = self.wte(idx)
        if self.m["positional"] == "learned":
            x = x + self.wpe(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x)
        if self.m["norm"] == "pre":
            x = self.ln_f(x)
        return self.head(x)


def main(folder):
    spec = json.load(open(f"{folder}/spec.json"))["model"]
    inputs = torch.load(f"{folder}/inputs.pt")
    model = Transformer(spec)
    params = {k: v for k, v in inputs.items() if k not in ("input", "target")}
    model.load_state_dict(params, strict=True)
    out = model(inputs["input"])
    loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), inputs["target"].reshape(-1))
    loss.backward()
    result = {"output": out.detach(), "loss": loss.detach()}
    for name, p in model.named_parameters():
        result["grad." + name] = p.grad
    torch.save(result, f"{folder}/reference.pt")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1])
