"""Attention taken where the model computes it: the probe's view of each block's A, q, k, v and W_O.

A `TorchFunctionMode` watches every torch call a block makes during the probe's forward pass:

- ``F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale, enable_gqa)``:
  A = softmax(q kᵀ·scale + mask) by its documented definition, from the q and k the model passed
  (after RoPE, QK-norm, head repetition), with its real mask, causality and scale;
- a softmax over the last axis of a (…, T, S) tensor, in code that computes A itself (eager
  implementations, GPT-2's, the LLaMA reference's): A is the softmax's own output, with whatever
  mask, bias, soft-cap or window the model applied before it; q and kᵀ are the operands of the
  matmul that made the logits, v the operand A is then multiplied with;
- ``F.multi_head_attention_forward`` (nn.MultiheadAttention, its fast path included: a probe
  needs gradients, which turns the fast path off): A is PyTorch's own per-head weights,
  recomputed with ``need_weights=True``; W_Q, W_K, W_V, W_O are the weights it was called with.

Weights are found by what they do, not by their names: W_O is the first matrix of the block the
attention output reaches (through reshapes, dropout, gates); W_Q, W_K, W_V are the block's
matrices the q, k and v tensors were computed from, and their gradients are the loss's gradient
flowing through q, k and v alone (``torch.autograd.grad(q, W, dL/dq)``): the rows of a fused or
interleaved projection that make q, a grouped-query W_K smaller than W_Q, a Conv1D's columns.
"""
import inspect
import math

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

_SDPA = F.scaled_dot_product_attention
_MHA = F.multi_head_attention_forward
_SOFTMAX = (F.softmax, torch.softmax, torch.Tensor.softmax, torch.special.softmax)
_MATMUL = (torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.bmm, torch.Tensor.bmm)
_BADDBMM = (torch.baddbmm, torch.Tensor.baddbmm)  # bias + α·(batch1 @ batch2): ALiBi (BLOOM)


def _sdpa_reference(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                    scale=None, enable_gqa=False):
    """F.scaled_dot_product_attention's signature (the builtin has none to inspect)."""


def _baddbmm_reference(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """torch.baddbmm's signature (the builtin has none to inspect)."""


SDPA_SIGNATURE = inspect.signature(_sdpa_reference)
_BADDBMM_SIGNATURE = inspect.signature(_baddbmm_reference)
MHA_SIGNATURE = inspect.signature(_MHA)


def _product(func, args, kwargs):
    """The two operands of a batched matrix product call, (left, right), or None."""
    if func in _MATMUL and len(args) >= 2:
        return args[0], args[1]
    if func in _BADDBMM:
        b = _BADDBMM_SIGNATURE.bind(*args, **kwargs).arguments
        return b["batch1"], b["batch2"]
    if func is torch.einsum and args and isinstance(args[0], str):
        ops = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
        if len(ops) == 2 and all(isinstance(t, torch.Tensor) for t in ops):
            return ops[0], ops[1]
    return None


class Attention:
    """One attention computation of a block: A (B, H, T, S) in float64, detached, and the tensors
    (part of the autograd graph) whose gradients name W_Q, W_K and W_V; or the weights directly."""

    def __init__(self, source, matrix, q=None, k=None, v=None, weights=None):
        self.source, self.matrix = source, matrix
        self.paths = {"q": q, "k": k, "v": v}
        self.grads = {}            # dL/dq, dL/dk, dL/dv, filled by tensor hooks in the backward
        self.weights = weights     # {'q': (param, rows), ...} where the weights are known outright
        self.w_o = None if weights is None else weights.get("o", (None, None))[0]
        self._hooks = []
        for name, t in self.paths.items():
            self.watch(name, t)

    def watch(self, name, t):
        """Keeps dL/dt from the probe's backward (the first gradient only: the same hook sees the
        later autograd.grad calls through a shared node, with nothing for t)."""
        def keep(g):
            if g is not None and name not in self.grads:
                self.grads[name] = g
        if isinstance(t, torch.Tensor) and t.requires_grad:
            self._hooks.append(t.register_hook(keep))

    def release(self):
        """Takes the hooks off and lets go of the tensors: a hook's closure refers to this
        object, which refers to the tensor, a cycle through autograd that Python's collector
        cannot see, which would keep the model's whole graph alive after the probe."""
        for h in self._hooks:
            h.remove()
        self._hooks, self.paths, self.grads, self.w_o = [], {}, {}, None


def _as_bhts(a, batch):
    """A as (B, H, T, S): 4-D as it is, (B·H, T, S) split batch-major (bmm layouts), (T, S) one."""
    if a.dim() == 4:
        return a
    if a.dim() == 3 and batch and a.shape[0] % batch == 0:
        return a.reshape(batch, a.shape[0] // batch, *a.shape[1:])
    if a.dim() == 2:
        return a.reshape(1, 1, *a.shape)
    return a.reshape(-1, 1, *a.shape[-2:]) if a.dim() == 3 else a.flatten(0, a.dim() - 4)


def repeat_heads(q, *kv):
    """k and v with their heads repeated to q's (grouped-query attention), as SDPA's
    enable_gqa does; unchanged where the counts agree."""
    rep = q.shape[-3] // kv[0].shape[-3] if q.dim() >= 3 else 1
    return tuple(t.repeat_interleave(rep, dim=-3) if rep > 1 else t for t in kv)


def sdpa_logits(q, k, attn_mask=None, is_causal=False, scale=None):
    """q kᵀ·scale with SDPA's masks, as its reference implementation defines them (boolean:
    True takes part; float: added), −∞ where masked; k with q's heads. Differentiable."""
    L, S = q.shape[-2], k.shape[-2]
    logits = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if is_causal:
        logits = logits.masked_fill(~torch.ones(L, S, dtype=torch.bool, device=q.device).tril(),
                                    float("-inf"))
    return logits if attn_mask is None else apply_mask(logits, attn_mask)


def apply_mask(logits, mask):
    """An SDPA mask on logits: boolean, True takes part (else −∞); float, added."""
    return (logits.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool
            else logits + mask.to(logits.dtype))


def sdpa_matrix(q, k, attn_mask=None, is_causal=False, scale=None):
    """softmax(q kᵀ·scale + mask) as torch.nn.functional.scaled_dot_product_attention defines
    it, in float64; dropout is left out (the probe runs in eval)."""
    with torch.no_grad():
        q, k = q.detach().double(), k.detach().double()
        (k,) = repeat_heads(q, k)
        mask = attn_mask.detach() if attn_mask is not None else None
        return torch.softmax(sdpa_logits(q, k, mask, is_causal, scale), -1)


def attention_matrix(a, q=None, k=None, *, source="sigprop.apply"):
    """`a` itself: the attention matrix a fix computed (sigprop.apply), announced to the probe's
    capture as the block's A, with the q and k it came from."""
    if torch.overrides.has_torch_function((a,)):
        return torch.overrides.handle_torch_function(attention_matrix, (a,), a, q, k, source=source)
    return a


def interface_matrix(module, query, key, attention_mask, scaling=None, softcap=None,
                     sliding_window=None, is_causal=None, s_aux=None):
    """A from the arguments transformers hands an attention function (its AttentionInterface:
    flash_attention_*, flex_attention, one a user registered), in float64, as eager attention
    would compute it from them: q·kᵀ·scaling, soft-capped, masked (a 4-D additive or boolean
    mask; else causal per `is_causal` or the module's, the window, a 2-D padding mask; a flex
    BlockMask made dense), with attention sinks (s_aux) in the normaliser. (B, H, T, S)."""
    with torch.no_grad():
        q, k = query.detach().double(), key.detach().double()
        if k.shape[1] != q.shape[1]:
            k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)
        T, S = q.shape[-2], k.shape[-2]
        logits = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(q.shape[-1]) if scaling is None else scaling)
        if softcap:
            logits = torch.tanh(logits / softcap) * softcap
        mask = attention_mask
        if mask is not None and not isinstance(mask, torch.Tensor):  # flex's BlockMask
            from torch.nn.attention.flex_attention import create_mask
            mask = create_mask(mask.mask_mod, q.shape[0], q.shape[1], T, S, device=q.device)
        if isinstance(mask, torch.Tensor) and mask.dim() == 4:
            logits = (logits.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool
                      else logits + mask.double())
        else:
            i = torch.arange(T, device=q.device).view(T, 1) + (S - T)  # queries at the end
            j = torch.arange(S, device=q.device).view(1, S)
            allowed = torch.ones(T, S, dtype=torch.bool, device=q.device)
            causal = getattr(module, "is_causal", False) if is_causal is None else is_causal
            if causal:
                allowed &= j <= i
            if sliding_window:
                allowed &= (i - j) < sliding_window
            allowed = allowed.expand(q.shape[0], 1, T, S)
            if isinstance(mask, torch.Tensor) and mask.dim() == 2:  # padding: 1 = a real token
                allowed = allowed & mask.bool().view(q.shape[0], 1, 1, S)
            logits = logits.masked_fill(~allowed, float("-inf"))
        if s_aux is not None:  # a sink logit per head, in the softmax's sum, not in A
            sink = s_aux.detach().double().view(1, -1, 1, 1).expand(*logits.shape[:-1], 1)
            return torch.softmax(torch.cat([logits, sink], -1), -1)[..., :-1]
        return torch.softmax(logits, -1)


def _tensors(args, kwargs):
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, torch.Tensor):
            yield a
        elif isinstance(a, (tuple, list)):
            yield from (t for t in a if isinstance(t, torch.Tensor))


class Capture(TorchFunctionMode):
    """Records the attention computations of the block running (set by the probe's block hooks).

    found[l] lists block l's computations in order; the first is the one probed (a decoder's
    self-attention comes before its cross-attention)."""

    def __init__(self, matrices_of, spectra=True):
        super().__init__()
        self.matrices_of = matrices_of  # l -> ids of block l's parameters of 2 or more dims
        self.spectra = spectra          # False: A itself is not kept (nor recomputed)
        self.found = {}
        self.block, self.batch, self.tokens = None, 0, 0
        self._inside = False            # inside a wrapped attention function: not watched
        self._logits = []               # (q, kᵀ, logits) of the block's recent 4-D matmuls
        self._follow, self._event = [], None   # tensors derived from A or from A·v
        self._want = None               # 'values' (A·v next) or 'output' (W_O next)

    def enter_block(self, l, batch, tokens):
        self.block, self.batch, self.tokens = l, batch, tokens
        self._logits, self._follow, self._event, self._want = [], [], None, None

    def leave_block(self):
        self.block, self._logits, self._follow, self._event, self._want = None, [], [], None, None

    def _record(self, event):
        self.found.setdefault(self.block, []).append(event)
        self._event, self._logits = event, []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.block is None or self._inside:
            return out
        if func is _SDPA:
            self._sdpa(args, kwargs, out)
        elif func is _MHA:
            self._mha(args, kwargs, out)
        elif func in _SOFTMAX:
            self._softmax(args, kwargs, out)
        elif func is attention_matrix:
            self._announced(args, kwargs, out)
        elif self._want is not None:
            self._derive(func, args, kwargs, out)
        elif isinstance(out, torch.Tensor) and out.dim() >= 3:
            pair = _product(func, args, kwargs)
            if pair is not None:
                self._logits = (self._logits + [(pair[0], pair[1], out)])[-4:]
        return out

    def _sdpa(self, args, kwargs, out):
        bound = SDPA_SIGNATURE.bind(*args, **kwargs).arguments
        q, k, v = bound["query"], bound["key"], bound["value"]
        a = None
        if self.spectra:
            a = _as_bhts(sdpa_matrix(q, k, bound.get("attn_mask"), bound.get("is_causal", False),
                                     bound.get("scale")), self.batch)
        self._record(Attention("scaled_dot_product_attention", a, q, k, v))
        self._want, self._follow = "output", [out]

    def _softmax(self, args, kwargs, out):
        x = args[0]
        dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        if (not isinstance(out, torch.Tensor) or out.dim() < 2 or dim is None
                or dim % out.dim() != out.dim() - 1):
            return
        q = kt = None
        for a, b, logits in reversed(self._logits):  # the matmul that made these logits
            if logits.shape[-2:] == x.shape[-2:]:
                q, kt = a, b
                break
        if q is None and not (out.shape[-2] == out.shape[-1] == self.tokens):
            return  # no logits matmul before it and not T x T (a router, a gate): not attention
        a = _as_bhts(out.detach().double(), self.batch) if self.spectra else None
        self._record(Attention("softmax", a, q, kt))
        self._want, self._follow = "values", [out]

    def _announced(self, args, kwargs, out):
        q = args[1] if len(args) > 1 else None
        k = args[2] if len(args) > 2 else None
        if q is None:
            q, k = next(((a, b) for a, b, logits in reversed(self._logits)
                         if logits.shape[-2:] == out.shape[-2:]), (None, None))
        a = _as_bhts(out.detach().double(), self.batch) if self.spectra else None
        self._record(Attention(kwargs.get("source", "sigprop.apply"), a, q, k))
        self._want, self._follow = "values", [out]

    def interface(self, name, original):
        """transformers' attention function `name` wrapped: A recomputed from its arguments,
        recorded as the block's, and the function itself run unwatched (its insides are a
        kernel's)."""
        def attention(module, query, key, value, attention_mask, *args, **kwargs):
            if self.block is None or self._inside:
                return original(module, query, key, value, attention_mask, *args, **kwargs)
            a = None
            if self.spectra:
                known = ("scaling", "softcap", "sliding_window", "is_causal", "s_aux")
                with torch._C.DisableTorchFunction():  # the capture must not see its own softmax
                    a = interface_matrix(module, query, key, attention_mask,
                                         **{n: kwargs[n] for n in known if n in kwargs})
            self._record(Attention(f"transformers:{name}", a, query, key, value))
            self._inside = True
            try:
                out = original(module, query, key, value, attention_mask, *args, **kwargs)
            finally:
                self._inside = False
            self._want, self._follow = "output", [out[0] if isinstance(out, tuple) else out]
            return out
        return attention

    def _mha(self, args, kwargs, out):
        bound = MHA_SIGNATURE.bind(*args, **kwargs)
        bound.apply_defaults()
        b = dict(bound.arguments)
        b.update(need_weights=True, average_attn_weights=False, training=False)
        weights = None
        if self.spectra:
            with torch.no_grad():
                weights = _MHA(**b)[1].detach().double()
        d = b["embed_dim_to_check"]
        if b["use_separate_proj_weight"]:
            qkv = {n: (b[f"{n}_proj_weight"], None) for n in "qkv"}
        else:
            qkv = {n: (b["in_proj_weight"], slice(i * d, (i + 1) * d)) for i, n in enumerate("qkv")}
        event = Attention("nn.MultiheadAttention", weights, weights={**qkv, "o": (b["out_proj_weight"], None)})
        self._record(event)

    def _derive(self, func, args, kwargs, out):
        """Follows A to its product with v, then the output to the first matrix it meets."""
        inputs = list(_tensors(args, kwargs))
        if not any(any(t is f for f in self._follow) for t in inputs):
            return
        event = self._event
        pair = _product(func, args, kwargs) if self._want == "values" else None
        if pair is not None and any(pair[0] is f for f in self._follow):
            event.paths["v"] = pair[1]
            event.watch("v", pair[1])
            self._want, self._follow = "output", [out]
            return
        if self._want == "output":
            own = self.matrices_of(self.block)
            w = next((t for t in inputs if id(t) in own), None)
            if w is not None:
                event.w_o, self._want, self._follow = w, None, []
                return
        if isinstance(out, torch.Tensor) and out.numel() == inputs[0].numel():
            self._follow.append(out)


def path_gradients(event, matrices):
    """|dL/dW| through q, k and v alone, for the block's `matrices`, and the ids of the matrices
    each path reaches: the gradient of the rows (or columns) of W that compute that path."""
    norms, used = {}, set()
    for name in ("q", "k", "v"):
        if event.weights is not None:
            p, rows = event.weights[name]
            g = p.grad if rows is None or p.grad is None else p.grad[rows]
            norms[name] = float("nan") if g is None else g.double().norm().item()
            used.add(id(p))
            continue
        t, g = event.paths.get(name), event.grads.get(name)
        if t is None or g is None or t.grad_fn is None:
            norms[name] = float("nan")
            continue
        gs = torch.autograd.grad(t, matrices, g, retain_graph=True, allow_unused=True)
        reached = [(p, x) for p, x in zip(matrices, gs) if x is not None]
        used.update(id(p) for p, _ in reached)
        norms[name] = (math.sqrt(sum(x.double().pow(2).sum().item() for _, x in reached))
                       if reached else float("nan"))
    return norms, used
