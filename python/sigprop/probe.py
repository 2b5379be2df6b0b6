"""sigprop.probe: signal propagation of any PyTorch model at initialisation.

The model runs one forward and one backward pass of a loss on one batch. What the probe needs of
every residual block is collected on the way: its output (the tokens, (B, T, d)); the attention
matrix A where the model computes it (sigprop/capture.py: scaled_dot_product_attention, the
softmax of eager attention code, nn.MultiheadAttention, transformers' attention functions), so A
is exactly the matrix the model multiplies its values by; and the gradient norms of W_Q, W_K, W_V, W_O, found by what they do,
and of the rest of the block's matrices. The metrics themselves are sigprop's C++ code
(probe/probe.h trace_metrics), the same as ``sigprop probe`` writes to probe.csv.
"""
import contextlib
import math
import os
import sys
import tempfile
from collections.abc import Mapping

import torch
from torch import nn

from . import _sigprop
from .capture import Capture, path_gradients

# Last resort only (no attention computation seen in a block): the names under which models keep
# their projections, from which A is rebuilt as softmax(q kᵀ/√d_h), and said so.
_FUSED_QKV = ("c_attn", "qkv", "in_proj", "Wqkv", "query_key_value")
_SEPARATE_QKV = (("q", "k", "v"), ("query", "key", "value"), ("q_proj", "k_proj", "v_proj"),
                 ("wq", "wk", "wv"))
_OUTPUT = ("out_proj", "c_proj", "o_proj", "proj", "o", "dense", "wo")
_HEADS = ("num_heads", "n_head", "n_heads", "heads", "nhead", "num_attention_heads",
          "attention_heads")


def _candidates(model):
    """Every ModuleList/Sequential of two or more modules: (name, container, child classes)."""
    out = []
    for name, m in model.named_modules():
        if isinstance(m, (nn.ModuleList, nn.Sequential)) and len(m) >= 2:
            out.append((name, m, [type(c).__name__ for c in m]))
    return out


def _runs(name, container, classes):
    """The container itself when its children are all of one class (with parameters), else its
    longest runs of two or more consecutive blocks of one class (modules with submodules), as
    in nn.Sequential(embedding, *blocks, norm, head): (name, modules)."""
    children = list(container)
    has_params = [sum(p.numel() for p in c.parameters()) > 0 for c in children]
    if len(set(classes)) == 1:
        return [(name, children)] if has_params[0] else []
    runs, i = [], 0
    while i < len(children):
        j = i
        while j + 1 < len(children) and classes[j + 1] == classes[i]:
            j += 1
        if j > i and has_params[i] and any(True for _ in children[i].children()):
            runs.append((f"{name}[{i}:{j + 1}]", children[i:j + 1]))
        i = j + 1
    return runs


def find_blocks(model, blocks=None):
    """The residual blocks of `model`, in order, and the dotted name of their container.

    `blocks` names the container ("transformer.h", "encoder.layers") or lists the modules; by
    default the longest ModuleList/Sequential whose children are all of one class (with
    parameters) is taken: nn.TransformerEncoder.layers, torchvision's encoder.layers, nanoGPT's
    transformer.h, model.layers; or the longest run of one block class inside a Sequential
    ("[1:13]" of nn.Sequential(embedding, *blocks, norm, head)).
    """
    if blocks is not None and not isinstance(blocks, str):
        blocks = list(blocks)
        if len(blocks) < 1 or not all(isinstance(b, nn.Module) for b in blocks):
            raise ValueError("sigprop.probe: blocks= must name a ModuleList of the model "
                             "(e.g. 'encoder.layers') or be a list of its modules")
        return blocks, "<given>"
    found = _candidates(model)
    if isinstance(blocks, str):
        named = dict(model.named_modules()).get(blocks)
        if isinstance(named, (nn.ModuleList, nn.Sequential)) and len(named) >= 1:
            return list(named), blocks  # named: one block is a stack too
        raise ValueError(f"sigprop.probe: blocks='{blocks}' is not a ModuleList/Sequential of "
                         f"{type(model).__name__}; candidates: "
                         + (", ".join(f"'{n}' ({len(m)} x {c[0]})" for n, m, c in found) or "none"))
    stacks = [run for n, m, c in found for run in _runs(n, m, c)]
    if not stacks:
        listed = ", ".join(f"'{n}' ({', '.join(sorted(set(c)))})" for n, m, c in found) or "none"
        raise ValueError(
            f"sigprop.probe: {type(model).__name__} has no stack of repeated blocks (a ModuleList "
            f"or Sequential of one module class); containers seen: {listed}. Name the blocks "
            f"with blocks='dotted.name' or blocks=[module, ...]")
    name, run = max(stacks, key=lambda s: (len(s[1]), -s[0].count(".")))
    return run, name


def _heads_of(module):
    for m in (module, getattr(module, "config", None)):
        for attr in _HEADS:
            h = getattr(m, attr, None)
            if isinstance(h, int) and h > 0:
                return h
    return None


def _matrix(module):
    """The 2-D weight of a projection module (nn.Linear, transformers' Conv1D, any other)."""
    w = getattr(module, "weight", None)
    return w if isinstance(w, torch.Tensor) and w.dim() == 2 else None


class _Projections:
    """Where a block keeps W_Q, W_K, W_V, W_O by name: the user's attention= mapping, a sigprop.nn
    attention module (its own A, any variant), or the usual names. Used for the weights when the
    user named them, and to rebuild A only where no attention computation was seen."""

    def __init__(self, block, mapping=None):
        self.block, self.own = block, None
        self.q = self.k = self.v = self.o = self.fused = None
        self.heads, self.causal = None, False
        self.mapped = bool(mapping)
        if mapping:
            self._from_mapping(block, mapping)
            return
        from .nn import _Attention as SigpropAttention
        for _, m in block.named_modules():
            if isinstance(m, SigpropAttention):
                self.own, self.heads, self.causal = m, m.heads, m.causal
                self.q, self.k, self.v, self.o = m.w_q, m.w_k, m.w_v, m.w_o
                return
        for _, m in block.named_modules():
            for child_name, child in m.named_children():
                if child_name in _FUSED_QKV and _matrix(child) is not None:
                    self.fused, self.heads = child, _heads_of(m)
                    self.causal = bool(getattr(m, "causal", getattr(m, "is_causal", False)))
                    self.o = next((getattr(m, n) for n in _OUTPUT
                                   if _matrix(getattr(m, n, None)) is not None), None)
                    return
                for names in _SEPARATE_QKV:
                    if child_name == names[0] and all(_matrix(getattr(m, n, None)) is not None
                                                      for n in names):
                        self.q, self.k, self.v = (getattr(m, n) for n in names)
                        self.heads = _heads_of(m)
                        self.causal = bool(getattr(m, "causal", getattr(m, "is_causal", False)))
                        self.o = next((getattr(m, n) for n in _OUTPUT
                                       if _matrix(getattr(m, n, None)) is not None), None)
                        return

    @property
    def found(self):
        return self.own is not None or self.fused is not None or self.q is not None

    def _from_mapping(self, block, mapping):
        modules = dict(block.named_modules())
        holders = [n for n, m in modules.items() if n and _matrix(m) is not None]

        def get(key):
            name = mapping.get(key)
            if name is None:
                return None
            if name not in modules or _matrix(modules[name]) is None:
                raise ValueError(f"sigprop.probe: attention['{key}'] = '{name}' is not a module "
                                 f"with a 2-D weight in block {type(block).__name__}; its modules "
                                 f"with one: {', '.join(holders) or 'none'}")
            return modules[name]

        self.fused = get("qkv")
        self.q, self.k, self.v, self.o = get("q"), get("k"), get("v"), get("o")
        if self.fused is None and None in (self.q, self.k, self.v):
            raise ValueError("sigprop.probe: attention= needs 'qkv', or all of 'q', 'k' and 'v'")
        self.heads = mapping.get("heads")
        self.causal = bool(mapping.get("causal", False))

    def weights(self):
        """{'q': (W, index), 'k': …, 'v': …, 'o': (W_O or None, None)}: a fused weight's third
        along its longer axis (rows of a Linear, columns of a Conv1D)."""
        out = {"o": (_matrix(self.o) if self.o is not None else None, None)}
        if self.fused is not None:
            w = _matrix(self.fused)
            axis = 0 if w.shape[0] >= w.shape[1] else 1
            d = w.shape[axis] // 3
            for i, n in enumerate("qkv"):
                part = slice(i * d, (i + 1) * d)
                out[n] = (w, part if axis == 0 else (slice(None), part))
        else:
            out.update({n: (_matrix(getattr(self, n)), None) for n in "qkv"})
        return out

    def rebuild(self, q, k):
        """A = softmax(q kᵀ/√d_h) per head from projected q, k (B, T, H·d_h): (B, H, T, T)."""
        B, T, D = q.shape
        h = self.heads
        q = q.reshape(B, T, h, D // h).transpose(1, 2).double()
        k = k.reshape(B, k.shape[1], h, D // h).transpose(1, 2).double()
        logits = q @ k.transpose(-2, -1) / math.sqrt(D // h)
        if self.causal:
            logits = logits.masked_fill(torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1),
                                        float("-inf"))
        return torch.softmax(logits, -1)


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


class ProbeResult:
    """The per-layer metrics of one probe: one dict per layer (probe.csv's columns)."""

    def __init__(self, rows, blocks_name, attention):
        self.rows = rows
        self.blocks = blocks_name
        # per block: {'source': where A came from, 'detail': why, or what it is}; sources:
        # scaled_dot_product_attention, softmax, nn.MultiheadAttention, sigprop.nn (the model's
        # own A), rebuilt (from the projections, not necessarily the model's), none (NaN columns)
        self.attention = attention

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        last = self.rows[-1]
        where = f"'{self.blocks}'" if self.blocks else "the model"
        bad = [r["layer"] for r in self.rows if r.get("finite") == 0]
        overflow = f"; NOT FINITE from layer {bad[0]} on" if bad else ""
        other = [i + 1 for i, a in enumerate(self.attention)
                 if a["source"] in ("rebuilt", "none")]
        if other:
            overflow += (f"; attention of blocks {other} not the model's own "
                         f"(result.attention says why)")
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
        _readable(tmp)
        try:
            fig.savefig(tmp, dpi=110)
            os.replace(tmp, path)
        finally:
            plt.close(fig)
            if os.path.exists(tmp):
                os.remove(tmp)


def _readable(tmp):
    """mkstemp makes files 0600; the finished file gets what open() would have given it."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)


def _write_atomic(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".sigprop-")
    _readable(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _grad_norm(p, index=None):
    if p is None or p.grad is None:
        return float("nan") if p is None else 0.0
    g = p.grad if index is None else p.grad[index]
    return g.double().norm().item()


def _seq_first(block):
    """A block around a sequence-first nn.MultiheadAttention takes and returns (T, B, d)."""
    return any(isinstance(m, nn.MultiheadAttention) and not m.batch_first for m in block.modules())


def _block_input(args, kwargs):
    x = next((a for a in args if isinstance(a, torch.Tensor)), None)
    if x is None:
        x = kwargs.get("hidden_states", next((v for v in kwargs.values()
                                              if isinstance(v, torch.Tensor)), None))
    return x


class _Trace:
    """The probe's hooks on the blocks and the capture of their attention, for one forward; every
    hook comes off again in remove(), on error too."""

    def __init__(self, block_list, projections, spectra):
        self.blocks, self.proj, self.spectra = block_list, projections, spectra
        n = len(block_list)
        self.hidden, self.stash, self.own = [None] * (n + 1), [None] * n, [None] * n
        self.seq_first = [_seq_first(b) for b in block_list]
        self.matrices = [[p for p in b.parameters() if p.dim() >= 2 and p.requires_grad]
                         for b in block_list]
        ids = [{id(p) for p in m} for m in self.matrices]
        self.capture = Capture(lambda l: ids[l], spectra)
        self.handles = []
        for l, (b, pr) in enumerate(zip(block_list, projections)):
            self.handles.append(b.register_forward_pre_hook(
                lambda m, a, kw, l=l: self._enter(l, a, kw), with_kwargs=True))
            self.handles.append(b.register_forward_hook(lambda m, a, o, l=l: self._leave(l, o)))
            self._fallback_hooks(l, pr)

    def _tokens(self, x, l):
        x = _first_tensor(x)
        return x.detach().transpose(0, 1) if self.seq_first[l] else x.detach()

    def _enter(self, l, args, kwargs):
        x = _block_input(args, kwargs)
        if x is None:
            raise ValueError(f"sigprop.probe: block {l + 1} ({type(self.blocks[l]).__name__}) was "
                             f"called with no tensor argument")
        x = self._tokens(x, l)
        if l == 0:
            self.hidden[0] = x
        self.capture.enter_block(l, x.shape[0], x.shape[1] if x.dim() >= 3 else 0)

    def _leave(self, l, out):
        self.hidden[l + 1] = self._tokens(out, l)
        self.capture.leave_block()

    def _fallback_hooks(self, l, pr):
        """Keeps what a rebuild of A would need (no computing: only where nothing was seen)."""
        if not self.spectra or not pr.found:
            return
        if pr.own is not None:
            def own(m, i, o, l=l):
                with torch.no_grad():
                    self.own[l] = m.attention(i[0]).double()
            self.handles.append(pr.own.register_forward_hook(own))
        elif pr.fused is not None:
            def fused(m, i, o, l=l):
                self.stash[l] = tuple(t.detach() for t in o.split(o.shape[-1] // 3, dim=-1)[:2])
            self.handles.append(pr.fused.register_forward_hook(fused))
        else:
            self.handles.append(pr.q.register_forward_hook(
                lambda m, i, o, l=l: self.stash.__setitem__(l, (o.detach(), None))))
            self.handles.append(pr.k.register_forward_hook(
                lambda m, i, o, l=l: self.stash.__setitem__(l, (self.stash[l][0], o.detach()))))

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def release(self):
        """Every captured attention lets go of its tensors and hooks (see Attention.release)."""
        for events in self.capture.found.values():
            for ev in events:
                ev.release()
        self.capture.found = {}

    def attention(self, l):
        """(A or None, source, detail) of block l: what the model computed, else a rebuild, said."""
        pr, seen = self.proj[l], self.capture.found.get(l, [])
        if pr.own is not None:
            return self.own[l], "sigprop.nn", f"{type(pr.own).__name__}'s own A"
        if seen:
            ev = seen[0]
            detail = "exact: the matrix the model multiplied its values by"
            if len(seen) > 1:
                detail += (f"; the first of {len(seen)} attention computations in the block "
                           f"(the later ones, e.g. cross-attention, are not probed)")
            return ev.matrix, ev.source, detail
        if not self.spectra:
            return None, "not computed", "spectra=False"
        if pr.found and pr.heads and self.stash[l] and self.stash[l][1] is not None:
            with torch.no_grad():
                a = pr.rebuild(*self.stash[l])
            return (a, "rebuilt", "no attention computation seen in the block; A rebuilt as "
                    "softmax(q kᵀ/√d_h) from its projections: mask, RoPE and scale unknown, so not "
                    "necessarily the model's")
        why = ("no scaled_dot_product_attention, attention softmax or nn.MultiheadAttention call "
               "seen in the block (a fused kernel that hides A, or no attention)")
        if pr.found and not pr.heads:
            why += "; its projections were found but not its number of heads (attention={'heads': H})"
        return None, "none", why

    def gradients(self, l):
        """Block l's gradient norms (q, k, v, o, mlp) and where W_Q… came from."""
        pr, seen, matrices = self.proj[l], self.capture.found.get(l, []), self.matrices[l]
        if pr.mapped or pr.own is not None or (not seen and pr.found):
            w = pr.weights()
            g = {n: _grad_norm(*w[n]) for n in "qkvo"}
            used = {id(p) for p, _ in w.values() if p is not None}
        elif seen:
            g, used = path_gradients(seen[0], matrices)
            w_o = seen[0].w_o
            g["o"] = _grad_norm(w_o)
            if w_o is not None:
                used.add(id(w_o))
        else:
            g, used = {n: float("nan") for n in "qkvo"}, set()
        names = {id(p): n for n, p in self.blocks[l].named_parameters()}
        rest = [p for p in matrices if id(p) not in used and "norm" not in names.get(id(p), "")]
        g["mlp"] = math.sqrt(sum(_grad_norm(p) ** 2 for p in rest)) if rest else float("nan")
        return g


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


@contextlib.contextmanager
def _transformers_interface(model, capture):
    """While the probe runs, a transformers model's attention function (its AttentionInterface
    entry: flash_attention_*, flex_attention, a registered one; not eager or sdpa, which the
    capture sees anyway) is wrapped so that A is taken from the arguments it is handed."""
    impl = getattr(getattr(model, "config", None), "_attn_implementation", None)
    utils = sys.modules.get("transformers.modeling_utils")
    found = None
    if utils is not None and isinstance(impl, str) and impl not in ("eager", "sdpa"):
        interface = utils.ALL_ATTENTION_FUNCTIONS
        for mapping in (getattr(interface, "_local_mapping", {}), type(interface)._global_mapping):
            if impl in mapping:
                found = mapping
                break
    if found is None:
        yield
        return
    original = found[impl]
    found[impl] = capture.interface(impl, original)
    try:
        yield
    finally:
        found[impl] = original


def _inputs(inputs):
    """(args, kwargs) for model(*args, **kwargs) from a tensor, a tuple or a mapping."""
    if isinstance(inputs, torch.Tensor):
        args, kwargs = (inputs,), {}
    elif isinstance(inputs, tuple):
        args, kwargs = inputs, {}
    elif isinstance(inputs, Mapping):
        args, kwargs = (), dict(inputs)
    else:
        raise TypeError("sigprop.probe: inputs must be a tensor, a tuple of positional arguments "
                        "or a dict of keyword arguments (e.g. {'input_ids': ..., "
                        f"'attention_mask': ...}}), not {type(inputs).__name__}")
    if not any(isinstance(a, torch.Tensor) for a in list(args) + list(kwargs.values())):
        raise TypeError("sigprop.probe: inputs hold no tensor; pass the model's input tensor(s) "
                        "as a tensor, a tuple of positional arguments or a dict of keyword ones")
    return args, kwargs


def _describe(args, kwargs):
    def one(a):
        return f"{tuple(a.shape)} {a.dtype}" if isinstance(a, torch.Tensor) else type(a).__name__
    return ", ".join([one(a) for a in args] + [f"{k}={one(v)}" for k, v in kwargs.items()])


def probe(model, inputs, *, loss=None, blocks=None, attention=None, spectra=True, seed=0,
          name=None, keep_attention=False):
    """Per-layer signal propagation of `model` on `inputs`, at its current weights.

    model      any torch.nn.Module with a stack of residual blocks (found, or named by blocks=):
               PyTorch's nn.TransformerEncoder, transformers' GPT-2, LLaMA, BERT, ViT…, timm's
               ViT, your own. A sigprop.nn.Transformer is traced by its own C++ forward (its
               attention matrices whatever the variant), as ``sigprop probe`` traces it
    inputs     a tensor, a tuple of positional arguments for model(*inputs), or a dict of
               keyword arguments for model(**inputs) (input_ids, attention_mask, pixel_values…)
    loss       callable(output) -> scalar; default 0.5·mean((output − G)²) with G a fixed
               N(0, 1) target of the output's shape (seed `seed`), as `sigprop probe` does for
               raw input. For a sigprop.nn.Transformer on tokens, ``loss=lambda out:
               model.loss(out, targets)`` is ``sigprop probe``'s loss.
    blocks     the blocks' container by dotted name, or a list of modules
    attention  where each block keeps its projections, to override what the probe finds:
               {'q': ..., 'k': ..., 'v': ..., 'o': ..., 'heads': H, 'causal': False} or
               {'qkv': ...}, names of modules with a 2-D weight inside the block. A is still
               taken where the model computes it; the mapping names the weights of grad_q…
    spectra    False: skip the attention spectra (σ₁, σ₂, |λ₂|, entropy: NaN), the probe's
               costliest part (an eigensolver per head); the token metrics and gradients remain
    keep_attention  True: result.attention[l]['matrix'] is block l+1's A, (B, H, T, S) float64
    Returns a ProbeResult: L+1 rows (the input to block 1, then each block's output), and per
    block where its A came from (result.attention). The model's weights, gradients, train/eval
    modes and hooks are as they were afterwards, on error too.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"sigprop.probe: model must be a torch.nn.Module, not {type(model).__name__}")
    args, kwargs = _inputs(inputs)
    own = hasattr(model, "_sigprop_trace")
    if own:
        if blocks is not None or attention is not None:
            raise ValueError("sigprop.probe: a sigprop.nn.Transformer knows its blocks and "
                             "attention; do not pass blocks= or attention=")
        if len(args) != 1 or kwargs or not isinstance(args[0], torch.Tensor):
            raise ValueError("sigprop.probe: a sigprop.nn.Transformer takes one input tensor, "
                             f"not {_describe(args, kwargs)}")
        block_list, blocks_name, trace = None, "blocks", None
    else:
        block_list, blocks_name = find_blocks(model, blocks)
        projections = [_Projections(b, attention) for b in block_list]
    params = list(model.parameters())
    if not params:
        raise ValueError(f"sigprop.probe: {type(model).__name__} has no parameters")
    saved_grads = [p.grad for p in params]
    saved_modes = [(m, m.training) for m in model.modules()]
    trace = None
    try:
        model.eval()  # dropout off: the probe measures the network, not a dropout mask
        for p in params:
            p.grad = None
        if not own:
            trace = _Trace(block_list, projections, spectra)
        try:
            if own:
                output, hidden, matrices = model._sigprop_trace(args[0])
                if not spectra:
                    matrices = [None] * len(matrices)
            else:
                with trace.capture, _transformers_interface(model, trace.capture):
                    output = model(*args, **kwargs)
        except Exception as e:
            raise ValueError(f"sigprop.probe: {type(model).__name__} failed on inputs "
                             f"{_describe(args, kwargs)}: {e}") from e
        finally:
            if trace is not None:
                trace.remove()
        value = _loss_value(output, loss, seed)
        value.backward(retain_graph=not own)  # kept for the gradients through q, k and v alone
        sources = None
        if own:
            grads = model._sigprop_block_gradients()
        else:
            hidden = trace.hidden
            missing = [i for i, h in enumerate(hidden) if h is None]
            if missing:
                raise ValueError(f"sigprop.probe: blocks {missing} of '{blocks_name}' did not run "
                                 f"in the forward pass; pass blocks= to name the ones that do")
            grads = [trace.gradients(l) for l in range(len(block_list))]
            found = [trace.attention(l) for l in range(len(block_list))]
            matrices = [a for a, _, _ in found]
            sources = [{"source": s, "detail": d, **({"matrix": a} if keep_attention else {})}
                       for a, s, d in found]
        loss_value = float(value.detach())
        del output, value
        metrics = _sigprop.layer_metrics(hidden, matrices, grads, loss_value)
    finally:
        if trace is not None:
            trace.release()
        for p, g in zip(params, saved_grads):
            p.grad = g
        for m, mode in saved_modes:
            m.training = mode
    label = name or (model.spec["name"] if own else type(model).__name__)
    width = hidden[0].shape[-1]
    rows = [{"model": label, "depth": len(hidden) - 1, "width": int(width), "seed": int(seed), **r}
            for r in metrics]
    if sources is None:
        sources = [{"source": "sigprop.nn", "detail": "sigprop's own trace"}] * (len(rows) - 1)
    for r, s in zip(rows, [{"source": "", "detail": ""}] + sources):
        r["attention"] = s["source"]
    return ProbeResult(rows, blocks_name, sources)
