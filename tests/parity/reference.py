"""PyTorch reference of sigprop's transformer, for parity tests (llm.c style).

Usage: .venv/bin/python reference.py DIR
Reads DIR/spec.json (sigprop's resolved config) and DIR/inputs.safetensors (parameters by sigprop's names,
plus "input" and "target"), runs one forward and backward of the training loss, and writes
DIR/reference.safetensors: "output", "loss" and "grad.<name>" for every parameter.
The model is written from the equations (model/block.h), not translated from the C++.
bench/peer.py and bench/probe_peer.py import it: `initialise` draws sigprop's init from the spec,
and `Transformer.forward(idx, trace)` records what sigprop's probe measures.
"""
import json
import math
import sys

import torch
from safetensors.torch import load_file, save_file
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def uniform_matrix(T, causal):
    if not causal:
        return torch.full((T, T), 1.0 / T)
    return torch.ones(T, T).tril() / torch.arange(1, T + 1).unsqueeze(1)


def spa_kernel(m, T, l):
    """Sigma_l of E-SPA / U-SPA (paper 001), float64; Sigma_0 = I."""
    L = m["depth"]
    if l == 0:
        return torch.eye(T, dtype=torch.float64)
    if m["attention"] == "uspa":
        rho = 1 - (1 - m["uspa_rho"]) ** (l / L)
        return (1 - rho) * torch.eye(T, dtype=torch.float64) + rho
    s2 = (1 - math.exp(-2 * m["espa_gamma"])) ** (l / L)
    gamma = -0.5 * math.log(1 - s2)
    i = torch.arange(T, dtype=torch.float64)
    return torch.exp(-gamma * (i[None, :] - i[:, None]).abs())


def spa_matrix(m, T, l):
    """A_l = chol(Sigma_l) chol(Sigma_{l-1})^-1 (causal) or sym sqrt (bidirectional)."""
    prev, cur = spa_kernel(m, T, l - 1), spa_kernel(m, T, l)
    if m["causal"]:
        return torch.linalg.cholesky(cur) @ torch.linalg.inv(torch.linalg.cholesky(prev))

    def power(S, p):
        e, v = torch.linalg.eigh(S)
        return v @ torch.diag(e.clamp_min(1e-300) ** p) @ v.T
    return power(cur, 0.5) @ power(prev, -0.5)


def tat_slope(eta, n):
    """Bisection for C^n(0) = eta with C(c) = c + (1-a)^2/(pi(1+a^2)) (sqrt(1-c^2) - c acos c)."""
    def iterate(a):
        c = 0.0
        for _ in range(n):
            c = min(1.0, max(-1.0, c))
            c = c + (1 - a) ** 2 / (math.pi * (1 + a * a)) * (math.sqrt(1 - c * c) - c * math.acos(c))
        return c
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if iterate(mid) >= eta:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def make_norm(m):
    return RMSNorm(m["width"]) if m["norm_kind"] == "rmsnorm" else nn.LayerNorm(m["width"], eps=1e-5)


class QKNorm(nn.Module):
    """QK-norm (Dehghani et al. 2023): RMSNorm over each head's channels of q and k, eps 1e-6,
    learnable gains of d_k shared by the heads."""

    def __init__(self, dk):
        super().__init__()
        self.q_gain = nn.Parameter(torch.ones(dk))
        self.k_gain = nn.Parameter(torch.ones(dk))

    def forward(self, q, k):
        def rms(x, g):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * g
        return rms(q, self.q_gain), rms(k, self.k_gain)


class Gain(nn.Module):
    """A learnable branch gain: per channel (LayerScale) or one scalar (ReZero)."""

    def __init__(self, shape, init):
        super().__init__()
        self.gain = nn.Parameter(torch.full(shape, float(init)))


class ValueSkipInit(nn.Module):
    """Value-SkipInit (paper 001): A <- alpha I + beta A, trainable, alpha = 1, beta = 0 at init."""

    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1))
        self.beta = nn.Parameter(torch.zeros(1))

    def forward(self, a):
        return self.alpha * torch.eye(a.shape[-1]) + self.beta * a


class Attention(nn.Module):
    def __init__(self, m, layer):
        super().__init__()
        d, h = m["width"], m["heads"]
        self.h, self.dk = h, (m["d_k"] or d // h)
        self.w_q = nn.Linear(d, h * self.dk, bias=False)
        self.w_k = nn.Linear(d, h * self.dk, bias=False)
        self.w_v = nn.Linear(d, d, bias=False)
        self.w_o = nn.Linear(d, d, bias=False)
        self.causal, self.variant, self.m, self.layer = m["causal"], m["attention"], m, layer
        if m.get("qk_norm"):
            self.qk_norm = QKNorm(self.dk)
        assert self.variant in ("softmax", "uniform", "random_markov", "gap_removed", "shaped",
                                "espa", "uspa", "value_skipinit")
        # gap_removed and value_skipinit modify the matrix named by attention_base.
        self.base = self.variant
        if self.variant in ("gap_removed", "value_skipinit"):
            self.base = m["attention_base"]
            assert self.base in ("softmax", "uniform", "random_markov"), self.base
        if self.variant == "value_skipinit":
            self.matrix = ValueSkipInit()  # parameters "attn.matrix.alpha", "attn.matrix.beta"
        # random_markov's logits G (H, max_seq, max_seq) are a buffer, drawn once (paper 003);
        # inputs.safetensors carries sigprop's, at sigprop's name: matrix.logits, or matrix.base.logits
        # under gap_removed and value_skipinit.
        if self.base == "random_markov":
            G = torch.zeros(h, m["max_seq"], m["max_seq"])
            if self.variant == "random_markov":
                self.matrix = nn.Module()
                self.matrix.register_buffer("logits", G)
            else:
                if not hasattr(self, "matrix"):
                    self.matrix = nn.Module()
                self.matrix.base = nn.Module()
                self.matrix.base.register_buffer("logits", G)

    # The benchmark's peers set this: A v then goes through F.scaled_dot_product_attention, as a
    # PyTorch user would write it, where A is softmax or shaped attention (bench/peer.py).
    sdpa = False

    def forward(self, x, trace=None):
        """trace: a dict whose "attn" list receives this block's A, detached: (B, H, T, T)."""
        B, T, d = x.shape
        q = self.w_q(x).view(B, T, self.h, self.dk).transpose(1, 2)
        k = self.w_k(x).view(B, T, self.h, self.dk).transpose(1, 2)
        v = self.w_v(x).view(B, T, self.h, d // self.h).transpose(1, 2)
        if hasattr(self, "qk_norm"):
            q, k = self.qk_norm(q, k)
        if self.sdpa and trace is None and self.variant in ("softmax", "shaped"):
            return self.w_o(self.sdpa_values(q, k, v).transpose(1, 2).reshape(B, T, d))
        if self.variant == "shaped":  # paper 004: tau = tau0 sqrt(n n_k)
            logits = q @ k.transpose(-2, -1) / (self.m["shaped_tau0"] * math.sqrt(d * self.dk))
        else:
            logits = q @ k.transpose(-2, -1) / math.sqrt(self.dk)
        if self.base == "uniform":
            logits = torch.zeros_like(logits)
        if self.base == "random_markov":  # input-independent: A = softmax(G), leading T x T block
            G = self.matrix.logits if self.variant == "random_markov" else self.matrix.base.logits
            logits = G[:, :T, :T].unsqueeze(0).expand(B, -1, -1, -1)
        scale = 1.0
        if self.variant in ("espa", "uspa"):  # A = D softmax(logits + log(D^-1 A_l))
            A = spa_matrix(self.m, T, self.layer + 1)
            scale = A.sum(-1, keepdim=True)
            logits = logits + torch.log((A / scale).clamp_min(0)).float()
            scale = scale.float()
        if self.causal:
            mask = torch.ones(T, T, dtype=torch.bool).triu(1)
            logits = logits.masked_fill(mask, float("-inf"))
        a = scale * torch.softmax(logits, -1)
        if self.variant == "gap_removed":
            a = a - uniform_matrix(T, self.causal)
        if self.variant == "shaped":
            a = a + torch.eye(T) - uniform_matrix(T, self.causal)
        if self.variant == "value_skipinit":
            a = self.matrix(a)
        if trace is not None:
            trace["attn"].append(a.detach())
        return self.w_o((a @ v).transpose(1, 2).reshape(B, T, d))


    def sdpa_values(self, q, k, v):
        """A v with the fused kernel: softmax(q kᵀ/√d_k) v, or for shaped attention (paper 004)
        (I + softmax(q kᵀ/τ) − C) v = v + softmax(q kᵀ/τ) v − C v."""
        T = q.shape[-2]
        if self.variant == "softmax":
            return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal, scale=1 / math.sqrt(self.dk))
        tau = self.m["shaped_tau0"] * math.sqrt(self.m["width"] * self.dk)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal, scale=1 / tau)
        return y + v - uniform_matrix(T, self.causal).to(v) @ v


class MLP(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.fc1 = nn.Linear(m["width"], m["mlp_width"])
        self.fc2 = nn.Linear(m["mlp_width"], m["width"])
        self.act = m["activation"]
        self.gain, self.s_pos, self.s_neg = 1.0, 1.0, m["leaky_slope"]
        if self.act == "tat_leaky_relu":  # paper 001
            self.s_neg = tat_slope(m["tat_eta"], m["depth"])
            self.gain = math.sqrt(2 / (1 + self.s_neg ** 2))
        if self.act == "shaped_relu":  # paper 004
            n = m["width"]
            self.s_pos = 1 + m["shaped_c_plus"] / math.sqrt(n)
            self.s_neg = 1 + m["shaped_c_minus"] / math.sqrt(n)
            self.gain = math.sqrt(2 / (self.s_pos ** 2 + self.s_neg ** 2))

    def forward(self, x):
        h = self.fc1(x)
        if self.act == "gelu":
            return self.fc2(F.gelu(h))
        if self.act == "relu":
            return self.fc2(F.relu(h))
        return self.fc2(self.gain * (self.s_pos * h.clamp_min(0) + self.s_neg * h.clamp_max(0)))


class Block(nn.Module):
    """Z = X + a*Attn(X), Y = Z + a*MLP(Z); post-norm after each sum, pre-norm in each branch;
    sandwich: pre-norm and a norm on each branch output. a: 1, a number, 1/sqrt(L), 1/L, a
    learnable gain (layerscale per channel, rezero a scalar); deepnorm: LN(lam*X + f), lam = (2L)^(1/4)."""

    def __init__(self, m, layer):
        super().__init__()
        self.place = m["norm"]
        r = m["residual"]
        self.skip, self.lam = r != "none", 1.0
        L = m["depth"]
        named = {"1/sqrt(L)": 1 / math.sqrt(L), "1/L": 1 / L, "none": 1.0, "deepnorm": 1.0,
                 "layerscale": 1.0, "rezero": 1.0}
        self.alpha = named.get(r, r)
        if r == "lambda_gamma":  # paper 004: lambda^2 + gamma^2 = 1
            self.alpha = m["residual_gamma"]
            self.lam = math.sqrt(1 - self.alpha ** 2)
        if r == "deepnorm":  # DeepNet (Wang et al. 2022)
            self.lam = (2 * L) ** 0.25
        self.gains = r in ("layerscale", "rezero")
        if self.gains:  # parameters residual_1.gain, residual_2.gain; sigprop's values are loaded
            shape = (m["width"],) if r == "layerscale" else (1,)
            init = 0.0  # ReZero's; LayerScale's is CaiT's by depth unless layerscale_init is set
            if r == "layerscale":
                init = m.get("layerscale_init") or (0.1 if L <= 18 else 1e-5 if L <= 24 else 1e-6)
            self.residual_1 = Gain(shape, init)
            if m["mlp_width"] > 0:
                self.residual_2 = Gain(shape, init)
        self.sim = m["simremove"]
        self.tau = m["simremove_tau"]
        self.causal = m["causal"]
        self.attn = Attention(m, layer)
        self.mlp = MLP(m) if m["mlp_width"] > 0 else None
        if self.place != "none":
            self.ln_1 = make_norm(m)
            if self.mlp is not None:
                self.ln_2 = make_norm(m)
        if self.place == "sandwich":
            self.ln_1_out = make_norm(m)
            if self.mlp is not None:
                self.ln_2_out = make_norm(m)

    def res(self, x, branch, i):
        if self.gains:
            branch = getattr(self, f"residual_{i}").gain * branch
        return self.lam * x + self.alpha * branch if self.skip else branch

    def out(self, y, i):
        return getattr(self, f"ln_{i}_out")(y) if self.place == "sandwich" else y

    def remove(self, y, where):  # paper 000: Y <- (I - tau Pi) Y; causal: Y <- (I - tau C) Y
        if self.sim not in (where, "both"):
            return y
        M = uniform_matrix(y.shape[1], self.causal).to(y)
        return y - self.tau * M @ y

    def forward(self, x, trace=None):
        pre, post = self.place in ("pre", "sandwich"), self.place == "post"
        a = self.out(self.attn(self.ln_1(x) if pre else x, trace), 1)
        h = self.res(x, self.remove(a, "attention"), 1)
        if post:
            h = self.ln_1(h)
        if self.mlp is None:
            return h
        y = self.res(h, self.remove(self.out(self.mlp(self.ln_2(h) if pre else h), 2), "mlp"), 2)
        return self.ln_2(y) if post else y


class Transformer(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m
        assert m["input"] in ("tokens", "patches"), m["input"]
        d = m["width"]
        if m["input"] == "tokens":
            self.wte = nn.Embedding(m["vocab_size"], d)
            self.head = nn.Linear(d, m["vocab_size"], bias=False)
        else:  # square patches, flattened (channel, row, column), mean-pooled classifier
            self.patch_embed = nn.Linear(m["channels"] * m["patch_size"] ** 2, d)
            self.head = nn.Linear(d, m["num_classes"])
        if m["positional"] == "learned":
            self.wpe = nn.Embedding(m["max_seq"], d)
        if m["positional"] == "sinusoidal":  # Vaswani et al. 2017; sigprop's buffer is loaded
            self.register_buffer("sinusoid", torch.zeros(m["max_seq"], d))
        self.blocks = nn.ModuleList(Block(m, l) for l in range(m["depth"]))
        if m["norm"] in ("pre", "sandwich"):
            self.ln_f = make_norm(m)

    def embed(self, inp):
        m = self.m
        if m["input"] == "tokens":
            return self.wte(inp)
        p, B = m["patch_size"], inp.shape[0]
        patches = inp.unfold(2, p, p).unfold(3, p, p)  # (B, C, H/p, W/p, p, p)
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(B, -1, m["channels"] * p * p)
        return self.patch_embed(patches)

    def forward(self, idx, trace=None):
        """trace: {"hidden": [], "attn": []} receives the input to block 1 and each block's
        output (L+1 tensors (B, T, d), in the graph) and each block's A (L, detached)."""
        x = self.embed(idx)
        if self.m["positional"] == "learned":
            x = x + self.wpe(torch.arange(x.shape[1], device=x.device))
        if self.m["positional"] == "sinusoidal":
            x = x + self.sinusoid[: x.shape[1]]
        if trace is not None:
            trace["hidden"].append(x)
        for b in self.blocks:
            x = b(x, trace)
            if trace is not None:
                trace["hidden"].append(x)
        if self.m["norm"] in ("pre", "sandwich"):
            x = self.ln_f(x)
        return self.head(x) if self.m["input"] == "tokens" else self.head(x.mean(1))


def initialise(model):
    """sigprop's initialisation (model/init.h) from the spec keys: block weights by model.init,
    biases 0, W_Q = 0 when zero_queries, deepnorm's beta on all but W_Q and W_K, embeddings
    N(0, 1), head N(0, 1/d); norms and
    Value-SkipInit's alpha = 1, beta = 0 keep their construction values. Drawn in init.cpp's order,
    after a construction that used as many random numbers as sigprop's, so after
    torch.manual_seed(s) it happens to give sigprop's weights for seed s; callers rely only on
    equality in law."""
    m = model.m

    def init_weight(w):
        fan_out, fan_in = w.shape
        if m["init"] == "normal":
            nn.init.normal_(w, 0.0, m["init_std"])
        elif m["init"] == "xavier":
            nn.init.xavier_normal_(w)
        elif m["init"] == "orthogonal":  # DKS's scaled uniform orthogonal (paper 001)
            nn.init.orthogonal_(w, math.sqrt(max(1.0, fan_out / fan_in)))
        else:
            assert m["init"] == "lecun", m["init"]
            nn.init.normal_(w, 0.0, 1.0 / math.sqrt(fan_in))

    with torch.no_grad():
        for b in model.blocks:
            layers = [b.attn.w_q, b.attn.w_k, b.attn.w_v, b.attn.w_o]
            if b.mlp is not None:
                layers += [b.mlp.fc1, b.mlp.fc2]
            for lin in layers:
                init_weight(lin.weight)
                if lin.bias is not None:
                    nn.init.zeros_(lin.bias)
            if m["zero_queries"]:  # uniform attention at init (papers 001, 002)
                nn.init.zeros_(b.attn.w_q.weight)
            if m["residual"] == "deepnorm":  # DeepNet's beta on all but W_Q, W_K
                for lin in layers[2:]:
                    lin.weight.mul_((8 * m["depth"]) ** -0.25)
        nn.init.normal_(model.wte.weight, 0.0, 1.0)
        if m["positional"] == "learned":
            nn.init.normal_(model.wpe.weight, 0.0, 1.0)
        nn.init.normal_(model.head.weight, 0.0, 1.0 / math.sqrt(m["width"]))


def main(folder):
    spec = json.load(open(f"{folder}/spec.json"))["model"]
    inputs = load_file(f"{folder}/inputs.safetensors")
    model = Transformer(spec)
    params = {k: v for k, v in inputs.items() if k not in ("input", "target")}  # and buffers
    model.load_state_dict(params, strict=True)
    trace = {"hidden": [], "attn": []}
    out = model(inputs["input"], trace)
    loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), inputs["target"].reshape(-1))
    loss.backward()
    result = {"output": out.detach().contiguous(), "loss": loss.detach()}
    for l, h in enumerate(trace["hidden"]):  # the input to block 1, then each block's output
        result[f"hidden.{l}"] = h.detach().contiguous()
    for name, p in model.named_parameters():  # W_Q, W_K of input-independent A: no gradient, 0
        result["grad." + name] = p.grad.contiguous() if p.grad is not None else torch.zeros_like(p)
    save_file(result, f"{folder}/reference.safetensors")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1])
