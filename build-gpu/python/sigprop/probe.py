"""sigprop.probe: signal propagation of any PyTorch model at initialisation.

The model runs one forward and one backward pass of a loss on one batch. Hooks collect what the
probe needs of every residual block: its output (the tokens, (B, T, d)), the attention matrix A
where it can be rebuilt from the block's own query/key projection, and the gradient norms of
W_Q, W_K, W_V, W_O and the rest of the block's weights. The metrics themselves are sigprop's C++
code (probe/probe.h trace_metrics), the same as ``sigprop probe`` writes to probe.csv.
"""
import math
import os
import tempfile

import torch
import torch.nn.functional as F
from torch import nn

from . import _sigprop

# Names under which models keep the pieces the probe looks for.
_FUSED_QKV = ("c_attn", "qkv", "in_proj", "Wqkv", "query_key_value")
_SEPARATE_QKV = (("q", "k", "v"), ("query", "key", "value"), ("q_proj", "k_proj", "v_proj"),
                 ("wq", "wk", "wv"))
_OUTPUT = ("out_proj", "c_proj", "o_proj", "proj", "o", "dense", "wo")
_HEADS = ("num_heads", "n_head", "n_heads", "heads", "nhead")


def _candidates(model):
    """Every ModuleList/Sequential of two or more modules: (name, container, child classes)."""
    out = []
    for name, m in model.named_modules():
        if isinstance(m, (nn.ModuleList, nn.Sequential)) and len(m) >= 2:
            out.append((name, m, [type(c).__name__ for c in m]))
    return out


def find_blocks(model, blocks=None):
    """The residual blocks of `model`, in order, and the dotted name of their container.

    `blocks` names the container ("transformer.h", "encoder.layers") or lists the modules; by
    default the longest ModuleList/Sequential whose children are all of one class (with
    parameters) is taken: nn.TransformerEncoder.layers, torchvision's encoder.layers, nanoGPT's
    transformer.h, model.layers.
    """
    if blocks is not None and not isinstance(blocks, str):
        blocks = list(blocks)
        if len(blocks) < 1 or not all(isinstance(b, nn.Module) for b in blocks):
            raise ValueError("sigprop.probe: blocks= must name a ModuleList of the model "
                             "(e.g. 'encoder.layers') or be a list of its modules")
        return blocks, "<given>"
    found = _candidates(model)
    if isinstance(blocks, str):
        for name, m, _ in found:
            if name == blocks:
                return list(m), name
        raise ValueError(f"sigprop.probe: blocks='{blocks}' is not a ModuleList/Sequential of "
                         f"{type(model).__name__}; candidates: "
                         + (", ".join(f"'{n}' ({len(m)} x {c[0]})" for n, m, c in found) or "none"))
    stacks = [(n, m) for n, m, c in found
              if len(set(c)) == 1 and sum(p.numel() for p in m[0].parameters()) > 0]
    if not stacks:
        listed = ", ".join(f"'{n}' ({', '.join(sorted(set(c)))})" for n, m, c in found) or "none"
        raise ValueError(
            f"sigprop.probe: {type(model).__name__} has no stack of repeated blocks (a ModuleList "
            f"or Sequential of one module class); containers seen: {listed}. Name the blocks "
            f"with blocks='dotted.name' or blocks=[module, ...]")
    name, m = max(stacks, key=lambda s: (len(s[1]), -s[0].count(".")))
    return list(m), name


def _heads_of(module):
    for attr in _HEADS:
        h = getattr(module, attr, None)
        if isinstance(h, int) and h > 0:
            return h
    return None


class _Attention:
    """Where one block keeps W_Q, W_K, W_V, W_O, and how to rebuild its A from its input."""

    def __init__(self, block, mapping=None):
        self.block, self.mha, self.fused, self.q = block, None, None, None
        self.k = self.v = self.o = self.own = None
        self.heads, self.causal, self.batch_first = None, False, True
        if mapping:
            self._from_mapping(block, mapping)
            return
        from .nn import _Attention as SigpropAttention
        for _, m in block.named_modules():  # a sigprop.nn attention: its own A, any variant
            if isinstance(m, SigpropAttention):
                self.own, self.heads, self.causal = m, m.heads, m.causal
                self.q, self.k, self.v, self.o = m.w_q, m.w_k, m.w_v, m.w_o
                return
        for _, m in block.named_modules():
            if isinstance(m, nn.MultiheadAttention):
                self.mha, self.heads, self.batch_first = m, m.num_heads, m.batch_first
                self.o = m.out_proj
                return
        for _, m in block.named_modules():  # a fused [q | k | v] Linear and its owner
            for child_name, child in m.named_children():
                if child_name in _FUSED_QKV and isinstance(child, nn.Linear):
                    self.fused, self.heads = child, _heads_of(m)
                    # GPT-style fused projections are causal (nanoGPT's is_causal=True).
                    self.causal = getattr(m, "causal", getattr(m, "is_causal", True))
                    self.o = next((getattr(m, n) for n in _OUTPUT
                                   if isinstance(getattr(m, n, None), nn.Linear)), None)
                    return
                for names in _SEPARATE_QKV:
                    if child_name == names[0] and all(isinstance(getattr(m, n, None), nn.Linear)
                                                      for n in names):
                        self.q, self.k, self.v = (getattr(m, n) for n in names)
                        self.heads = _heads_of(m)
                        self.causal = bool(getattr(m, "causal", getattr(m, "is_causal", False)))
                        self.o = next((getattr(m, n) for n in _OUTPUT
                                       if isinstance(getattr(m, n, None), nn.Linear)), None)
                        return
        linears = [n for n, m in block.named_modules() if isinstance(m, nn.Linear)]
        raise ValueError(
            f"sigprop.probe: cannot find the query/key/value weights of block "
            f"{type(block).__name__}: no nn.MultiheadAttention, no fused Linear named "
            f"{'/'.join(_FUSED_QKV)}, no Linears named q/k/v, query/key/value or q_proj/k_proj/"
            f"v_proj. Its Linear modules: {', '.join(linears) or 'none'}. Pass attention="
            f"{{'q': 'attn.wq', 'k': 'attn.wk', 'v': 'attn.wv', 'o': 'attn.wo', 'heads': 8}} "
            f"(names inside the block; or 'qkv' for one fused Linear)")

    def _from_mapping(self, block, mapping):
        modules = dict(block.named_modules())

        def get(key):
            name = mapping.get(key)
            if name is None:
                return None
            if name not in modules or not isinstance(modules[name], nn.Linear):
                raise ValueError(f"sigprop.probe: attention['{key}'] = '{name}' is not a Linear "
                                 f"of block {type(block).__name__}; its Linears: "
                                 + ", ".join(n for n, m in modules.items() if isinstance(m, nn.Linear)))
            return modules[name]

        self.fused = get("qkv")
        self.q, self.k, self.v, self.o = get("q"), get("k"), get("v"), get("o")
        if self.fused is None and None in (self.q, self.k, self.v):
            raise ValueError("sigprop.probe: attention= needs 'qkv', or all of 'q', 'k' and 'v'")
        self.heads = mapping.get("heads")
        self.causal = bool(mapping.get("causal", False))

    def weights(self):
        """(W_Q, W_K, W_V, W_O) parameters or row slices of a packed one (their .grad is read)."""
        if self.mha is not None:
            m = self.mha
            if m.in_proj_weight is not None:
                d = m.embed_dim
                return [(m.in_proj_weight, slice(i * d, (i + 1) * d)) for i in range(3)] + \
                       [(m.out_proj.weight, None)]
            return [(m.q_proj_weight, None), (m.k_proj_weight, None), (m.v_proj_weight, None),
                    (m.out_proj.weight, None)]
        if self.fused is not None:
            d = self.fused.weight.shape[0] // 3
            return [(self.fused.weight, slice(i * d, (i + 1) * d)) for i in range(3)] + \
                   [(self.o.weight if self.o is not None else None, None)]
        return [(self.q.weight, None), (self.k.weight, None), (self.v.weight, None),
                (self.o.weight if self.o is not None else None, None)]

    def parameters(self):
        ids = set()
        for p, _ in self.weights():
            if p is not None:
                ids.add(id(p))
        if self.mha is not None:
            ids.update(id(p) for p in self.mha.parameters())
        return ids

    def matrix(self, q, k, mask=None):
        """A = softmax(q kᵀ/√d_h) per head from projected q, k (B, T, H·d_h): (B, H, T, T)."""
        B, T, D = q.shape
        h = self.heads
        q = q.reshape(B, T, h, D // h).transpose(1, 2)
        k = k.reshape(B, k.shape[1], h, D // h).transpose(1, 2)
        logits = q @ k.transpose(-2, -1) / math.sqrt(D // h)
        if self.causal:
            logits = logits.masked_fill(torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1),
                                        float("-inf"))
        if mask is not None:
            logits = logits + mask if mask.dtype != torch.bool else logits.masked_fill(mask, float("-inf"))
        return torch.softmax(logits.double(), -1)


def _first_tensor(out):
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict):
        out = out.get("logits", next(iter(out.values()), None))
        return _first_tensor(out)
    if isinstance(out, (tuple, list)) and out:
        return _first_tensor(out[0])
    if hasattr(out, "logits"):
        return out.logits
    raise ValueError(f"sigprop.probe: the model returned {type(out).__name__}, with no tensor "
                     f"to take a loss of; pass loss=lambda output: ...")


def _grad_norm(p, rows=None):
    if p is None or p.grad is None:
        return float("nan") if p is None else 0.0
    g = p.grad if rows is None else p.grad[rows]
    return g.double().norm().item()


class ProbeResult:
    """The per-layer metrics of one probe: one dict per layer (probe.csv's columns)."""

    def __init__(self, rows, blocks_name):
        self.rows = rows
        self.blocks = blocks_name

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        last = self.rows[-1]
        where = f"'{self.blocks}'" if self.blocks else "the model"
        bad = [r["layer"] for r in self.rows if r.get("finite") == 0]
        overflow = f"; NOT FINITE from layer {bad[0]} on" if bad else ""
        return (f"ProbeResult({last['model']}, {last['depth']} blocks of {where}: final "
                f"cosine {last['cosine']:.3f}, grad_q/grad_v {last['grad_q_over_v']:.3g}{overflow})")

    @property
    def first_non_finite_layer(self):
        """The first layer whose tokens, attention or gradients hold inf or NaN, or None."""
        return next((r["layer"] for r in self.rows if r.get("finite") == 0), None)

    def to_pandas(self):
        import pandas as pd
        return pd.DataFrame(self.rows)

    def to_csv(self, path):
        """probe.csv's layout (the C++ writer's), written whole or not at all."""
        text = _sigprop.probe_csv(self.rows)
        _write_atomic(path, text.encode())

    def plot(self, path):
        """probe.png's panels: cosine, |∇W_Q|/|∇W_V| and stable ranks against layer."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        layers = [r["layer"] for r in self.rows]
        fig, ax = plt.subplots(1, 3, figsize=(15, 4.5))
        name = self.rows[-1]["model"]
        ax[0].plot(layers, [r["cosine"] for r in self.rows], "o-", label=name)
        ax[0].set(title="(a) mean token cosine", xlabel="layer", ylabel="cosine", ylim=(-0.05, 1.05))
        ax[1].semilogy(layers[1:], [r["grad_q_over_v"] for r in self.rows[1:]], "o-", label=name)
        ax[1].set(title="(b) |grad W_Q| / |grad W_V|", xlabel="block")
        ax[2].plot(layers, [r["stable_rank"] for r in self.rows], "o-", label="sr(X)")
        ax[2].plot(layers, [r["centred_stable_rank"] for r in self.rows], "s--", label="sr(X - mean)")
        ax[2].set(title="(c) stable rank", xlabel="layer")
        for a in ax:
            a.grid(True, alpha=0.3)
            a.legend()
        fig.tight_layout()
        ext = os.path.splitext(path)[1] or ".png"
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=ext)
        os.close(fd)
        try:
            fig.savefig(tmp, dpi=110)
            os.replace(tmp, path)
        finally:
            plt.close(fig)
            if os.path.exists(tmp):
                os.remove(tmp)


def _write_atomic(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".sigprop-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class _Hooks:
    """Installs the probe's hooks and takes every one off again, on error too."""

    def __init__(self):
        self.handles, self.patched = [], []

    def forward(self, module, fn):
        self.handles.append(module.register_forward_hook(fn))

    def pre(self, module, fn):
        self.handles.append(module.register_forward_pre_hook(fn))

    def wrap_forward(self, module, fn):
        """module.forward(*args, **kwargs) seen by fn first (hooks of LibTorch 1.13 see no kwargs)."""
        original = module.forward

        def forward(*args, **kwargs):
            fn(args, kwargs)
            return original(*args, **kwargs)

        module.forward = forward
        self.patched.append(module)

    def remove(self):
        for h in self.handles:
            h.remove()
        for m in self.patched:
            del m.forward  # the class's forward again
        self.handles, self.patched = [], []


def _install_hooks(hooks, block_list, attns, hidden, matrices, spectra):
    """Hooks that fill hidden[l] (block inputs/outputs) and matrices[l] (attention) in a forward."""
    transpose = [not a.batch_first for a in attns]  # seq-first MHA blocks: (T, B, d) -> (B, T, d)

    def tokens(x, l):
        x = _first_tensor(x)
        return x.detach().transpose(0, 1) if transpose[l] else x.detach()

    hooks.pre(block_list[0], lambda m, a: hidden.__setitem__(0, tokens(a[0], 0)))
    for l, (b, a) in enumerate(zip(block_list, attns)):
        hooks.forward(b, lambda m, i, o, l=l: hidden.__setitem__(l + 1, tokens(o, l)))
        if a.heads is None or not spectra:
            continue
        if a.own is not None:
            def own_out(m, i, o, l=l):
                with torch.no_grad():
                    matrices[l] = m.attention(i[0]).float()
            hooks.forward(a.own, own_out)
        elif a.mha is not None:
            def seen(args_, kwargs, l=l, a=a):
                q_in = args_[0] if args_ else kwargs["query"]
                k_in = args_[1] if len(args_) > 1 else kwargs.get("key", q_in)
                m = a.mha
                if not a.batch_first:
                    q_in, k_in = q_in.transpose(0, 1), k_in.transpose(0, 1)
                with torch.no_grad():
                    w, bias = m.in_proj_weight, m.in_proj_bias
                    d = m.embed_dim
                    q = F.linear(q_in, w[:d], None if bias is None else bias[:d])
                    k = F.linear(k_in, w[d:2 * d], None if bias is None else bias[d:2 * d])
                    mask = kwargs.get("attn_mask")
                    matrices[l] = a.matrix(q, k, mask).float()
            if a.mha.in_proj_weight is not None:
                hooks.wrap_forward(a.mha, seen)
        elif a.fused is not None:
            def fused_out(m, i, o, l=l, a=a):
                with torch.no_grad():
                    q, k, _ = o.split(o.shape[-1] // 3, dim=-1)
                    matrices[l] = a.matrix(q, k).float()
            hooks.forward(a.fused, fused_out)
        else:
            def q_out(m, i, o, l=l, a=a):
                a._last_q = o.detach()

            def k_out(m, i, o, l=l, a=a):
                with torch.no_grad():
                    matrices[l] = a.matrix(a._last_q, o.detach()).float()
            hooks.forward(a.q, q_out)
            hooks.forward(a.k, k_out)


def _block_gradients(block_list, attns):
    """Each block's gradient norms after the backward: q, k, v, o (rows of a fused weight where
    it is one) and the rest of its matrices (the MLP), as probe.csv's grad_* columns."""
    grads = []
    for b, a in zip(block_list, attns):
        (wq, rq), (wk, rk), (wv, rv), (wo, ro) = a.weights()
        attn_ids = a.parameters()
        rest = [p for n, p in b.named_parameters()
                if id(p) not in attn_ids and p.dim() == 2 and "norm" not in n]
        mlp = math.sqrt(sum(_grad_norm(p) ** 2 for p in rest)) if rest else float("nan")
        grads.append({"q": _grad_norm(wq, rq), "k": _grad_norm(wk, rk), "v": _grad_norm(wv, rv),
                      "o": _grad_norm(wo, ro), "mlp": mlp})
    return grads


def _loss_value(output, loss, seed):
    out = _first_tensor(output)
    if loss is None:
        g = torch.Generator(device="cpu").manual_seed(seed)
        target = torch.randn(out.shape, generator=g, dtype=out.dtype).to(out.device)
        value = 0.5 * (out - target).pow(2).mean()
    else:
        value = loss(output)
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise ValueError("sigprop.probe: loss must return a scalar tensor")
    return value


def probe(model, inputs, *, loss=None, blocks=None, attention=None, spectra=True, seed=0,
          name=None):
    """Per-layer signal propagation of `model` on `inputs`, at its current weights.

    model      any torch.nn.Module with a stack of residual blocks (found, or named by blocks=);
               a sigprop.nn.Transformer is traced by its own C++ forward (its attention
               matrices whatever the variant), as ``sigprop probe`` traces it
    inputs     a tensor, or a tuple of positional arguments, for model(*inputs)
    loss       callable(output) -> scalar; default 0.5·mean((output − G)²) with G a fixed
               N(0, 1) target of the output's shape (seed `seed`), as `sigprop probe` does for
               raw input. For a sigprop.nn.Transformer on tokens, ``loss=lambda out:
               model.loss(out, targets)`` is ``sigprop probe``'s loss.
    blocks     the blocks' container by dotted name, or a list of modules
    attention  where each block keeps its projections, when they cannot be found:
               {'q': ..., 'k': ..., 'v': ..., 'o': ..., 'heads': H, 'causal': False} or
               {'qkv': ...}, names inside the block
    spectra    False: skip the attention spectra (σ₁, σ₂, |λ₂|, entropy: NaN), the probe's
               costliest part (an eigensolver per head); the token metrics and gradients remain
    Returns a ProbeResult: L+1 rows (the input to block 1, then each block's output). The model's
    weights, gradients and train/eval modes are as they were afterwards, on error too.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"sigprop.probe: model must be a torch.nn.Module, not {type(model).__name__}")
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    if not args or not all(isinstance(a, torch.Tensor) for a in args):
        raise TypeError("sigprop.probe: inputs must be a tensor or a tuple of tensors, not "
                        f"{type(inputs).__name__}")
    own = hasattr(model, "_sigprop_trace")
    if own:
        if blocks is not None or attention is not None:
            raise ValueError("sigprop.probe: a sigprop.nn.Transformer knows its blocks and "
                             "attention; do not pass blocks= or attention=")
        if len(args) != 1:
            raise ValueError("sigprop.probe: a sigprop.nn.Transformer takes one input tensor, "
                             f"not {len(args)}")
        block_list, blocks_name, attns = None, "blocks", None
    else:
        block_list, blocks_name = find_blocks(model, blocks)
        attns = [_Attention(b, attention) for b in block_list]
    params = list(model.parameters())
    if not params:
        raise ValueError(f"sigprop.probe: {type(model).__name__} has no parameters")
    saved_grads = [p.grad for p in params]
    saved_modes = [(m, m.training) for m in model.modules()]
    hooks = _Hooks()
    try:
        model.eval()  # dropout off: the probe measures the network, not a dropout mask
        for p in params:
            p.grad = None
        if not own:
            hidden, matrices = [None] * (len(block_list) + 1), [None] * len(block_list)
            _install_hooks(hooks, block_list, attns, hidden, matrices, spectra)
        try:
            if own:
                output, hidden, matrices = model._sigprop_trace(args[0])
                if not spectra:
                    matrices = [None] * len(matrices)
            else:
                output = model(*args)
        except Exception as e:
            shapes = ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in args)
            raise ValueError(f"sigprop.probe: {type(model).__name__} failed on inputs {shapes}: "
                             f"{e}") from e
        value = _loss_value(output, loss, seed)
        value.backward()
        if own:
            grads = model._sigprop_block_gradients()
        else:
            missing = [i for i, h in enumerate(hidden) if h is None]
            if missing:
                raise ValueError(f"sigprop.probe: blocks {missing} of '{blocks_name}' did not run "
                                 f"in the forward pass; pass blocks= to name the ones that do")
            grads = _block_gradients(block_list, attns)
        metrics = _sigprop.layer_metrics(hidden, matrices, grads, float(value.detach()))
    finally:
        hooks.remove()
        for p, g in zip(params, saved_grads):
            p.grad = g
        for m, mode in saved_modes:
            m.training = mode
    label = name or (model.spec["name"] if own else type(model).__name__)
    width = hidden[0].shape[-1]
    rows = [{"model": label, "depth": len(hidden) - 1, "width": int(width), "seed": int(seed), **r}
            for r in metrics]
    return ProbeResult(rows, blocks_name)
