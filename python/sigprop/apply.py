"""sigprop.apply: a fix put into a user's own model, where it acts, without editing its source.

Every fix attaches at one of three points of each residual block, found while the block runs
(the same watch of torch calls as the probe's capture, sigprop/capture.py):

- the attention matrix, where the model computes it (F.scaled_dot_product_attention, the
  softmax of eager attention code, nn.MultiheadAttention): shaped attention, spectral-gap
  removal, Value-SkipInit;
- q and k before the logits: QK-norm;
- each branch output before it joins the residual stream (the operand of the residual add that
  is not the stream): LayerScale, ReZero, a constant 1/√L or 1/L, similarity removal, sandwich.

The fixed block's class is a subclass of the user's, named ``Fixed<Class>``, whose forward runs
the class's own forward under that watch; the fix's parameters are registered on the block
(``sigprop_<fix>_…``), so ``torch.optim`` trains them and ``state_dict`` saves and loads them.
"""
import copy
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from .fixes import FIXES
from .fixes.base import _MASKED, _uniform_like
from .capture import (_MATMUL, _MHA, _SDPA, _SOFTMAX, MHA_SIGNATURE, SDPA_SIGNATURE,
                      apply_mask, attention_matrix, repeat_heads, sdpa_logits)
from .probe import _block_input, _describe, _heads_of, _inputs, _seq_first, find_blocks

_ADD = (torch.add, torch.Tensor.add, torch.Tensor.__add__, torch.Tensor.__radd__,
        torch.Tensor.__iadd__)
_NORMS = (F.layer_norm, F.rms_norm, F.group_norm)
_STREAM = _NORMS + (F.dropout, torch.Tensor.contiguous,
                    torch.Tensor.to)  # a post-norm's stream goes on through its norm


class _Watch(TorchFunctionMode):
    """The fixes of one block, at their points, for one call of its forward."""

    def __init__(self, block, stream):
        super().__init__()
        self.block, self.fixes, self.site = block, block._sigprop_fixes, block._sigprop_site
        self.stream, self.branches, self.causal, self.attended = [stream], 0, False, 0
        self.attend = any("matrix" in f.points for f in self.fixes)
        self._probs = []   # attention matrices of this call and their casts (A·v is no logits product)
        # apply's recording pass for the fixes that rescale the initialisation (_initialise)
        self.record = getattr(block, "_sigprop_record", None)
        self.norm_qk = any("qk" in f.points for f in self.fixes) or self.record is not None
        self.joined, self.normed = [], []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is _SDPA:
            return self._sdpa(func, args, kwargs)
        if func is _MHA:
            if self.attend or self.norm_qk:
                return self._mha(args, kwargs)
            b = MHA_SIGNATURE.bind(*args, **kwargs).arguments
            self.causal = (self.causal or bool(b.get("is_causal"))
                           or _causal_mask(_as_sdpa_mask(b.get("attn_mask"))))
            self.attended += 1
        if func in _SOFTMAX and self.attend:
            return self._softmax(func, args, kwargs)
        if func in _MATMUL and self.norm_qk and len(args) == 2:
            return self._logits_product(func, args, kwargs)
        if func in _ADD and len(args) == 2:
            return self._add(func, args, kwargs)
        out = func(*args, **kwargs)
        first = args[0] if args else None
        if func in _STREAM and any(first is s for s in self.stream):
            self.stream.append(out)
            if self.record is not None and func in _NORMS and any(first is j for j in self.joined):
                self.normed.append(out)  # the stream after a residual add, normalised
        if func in _SOFTMAX and isinstance(out, torch.Tensor) and out.dim() >= 3 \
                and out.shape[-1] == out.shape[-2] == self._tokens():
            self.attended += 1  # the model's own attention softmax, passed through
            self.causal = self.causal or bool((out.detach().triu(1) == 0).all())
        if isinstance(out, torch.Tensor) and (func in _SOFTMAX or (
                any(first is p for p in self._probs) and out.shape == first.shape)):
            self._probs.append(out)  # a softmax's output, cast or dropped out: an A
        return out

    def _sdpa(self, func, args, kwargs):
        b = SDPA_SIGNATURE.bind(*args, **kwargs).arguments
        q, k, v = b["query"], b["key"], b["value"]
        if self.norm_qk:
            q, k = self._qk(q, k)
        mask, is_causal = b.get("attn_mask"), b.get("is_causal", False)
        self.causal = self.causal or is_causal or _causal_mask(mask)
        self.attended += 1
        if not self.attend:
            return func(q, k, v, **{n: b[n] for n in b if n not in ("query", "key", "value")})
        with torch._C.DisableTorchFunction():  # the probe sees the fixed A, not its parts
            kk, vv = repeat_heads(q, k, v)
            a = self._fixed_matrix(sdpa_logits(q, kk, mask, is_causal, b.get("scale")))
        if b.get("dropout_p", 0.0) > 0:
            a = F.dropout(a, b["dropout_p"])
        return attention_matrix(a, q, k, source=self._source()) @ vv

    def _mha(self, args, kwargs):
        """F.multi_head_attention_forward written out (seq-first, as nn.MultiheadAttention calls
        it), so that the fixes reach its q, k and A."""
        b = MHA_SIGNATURE.bind(*args, **kwargs)
        b.apply_defaults()
        b = b.arguments
        if b["bias_k"] is not None or b["add_zero_attn"] or b["static_k"] is not None:
            raise ValueError("sigprop.apply: nn.MultiheadAttention with add_bias_kv, "
                             "add_zero_attn or static keys is not supported by attention fixes")
        query, key, value = b["query"], b["key"], b["value"]
        E, H = b["embed_dim_to_check"], b["num_heads"]
        if query.dim() == 2:
            raise ValueError("sigprop.apply: unbatched nn.MultiheadAttention input is not "
                             "supported by attention fixes")
        L, N, _ = query.shape
        S = key.shape[0]
        if b["use_separate_proj_weight"]:
            w = (b["q_proj_weight"], b["k_proj_weight"], b["v_proj_weight"])
        else:
            w = b["in_proj_weight"].chunk(3)
        bias = (None,) * 3 if b["in_proj_bias"] is None else b["in_proj_bias"].chunk(3)
        hd = E // H
        self.attended += 1

        def heads(x, W, c, T):
            return F.linear(x, W, c).view(T, N, H, hd).permute(1, 2, 0, 3)  # (N, H, T, hd)
        q, k, v = heads(query, w[0], bias[0], L), heads(key, w[1], bias[1], S), heads(value, w[2], bias[2], S)
        q, k = self._qk(q, k)
        with torch._C.DisableTorchFunction():
            mask, padding = _as_sdpa_mask(b["attn_mask"]), _as_sdpa_mask(b["key_padding_mask"])
            if mask is not None:
                mask = mask.reshape((-1, H, L, S) if mask.dim() == 3 else (L, S))
            causal = bool(b["is_causal"]) and mask is None
            self.causal = self.causal or causal or _causal_mask(mask)
            logits = sdpa_logits(q, k, mask, causal, 1.0 / math.sqrt(hd))
            if padding is not None:
                logits = apply_mask(logits, padding.reshape(N, 1, 1, S))
            a = self._fixed_matrix(logits) if self.attend else torch.softmax(logits, -1)
        if b["training"] and b["dropout_p"] > 0:
            a = F.dropout(a, b["dropout_p"])
        out = (attention_matrix(a, q, k, source=self._source()) @ v).permute(2, 0, 1, 3).reshape(L, N, E)
        out = F.linear(out, b["out_proj_weight"], b["out_proj_bias"])
        weights = None
        if b["need_weights"]:
            weights = a.mean(1) if b["average_attn_weights"] else a
        return out, weights

    def _softmax(self, func, args, kwargs):
        x = args[0]
        dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        if x.dim() < 3 or dim is None or dim % x.dim() != x.dim() - 1:
            return func(*args, **kwargs)
        self.attended += 1
        with torch._C.DisableTorchFunction():
            a = self._fixed_matrix(x.float() if kwargs.get("dtype") is not None else x)
            self.causal = self.causal or bool((a.detach().triu(1) == 0).all())
            a = a.to(kwargs["dtype"]) if kwargs.get("dtype") is not None else a
        out = attention_matrix(a, source=self._source())
        self._probs.append(out)
        return out

    def _qk(self, q, k):
        if self.record is not None:
            self.record["qk"] += [q, k]
        for f in self.fixes:
            q, k = f.qk(self.block, q, k)
        return q, k

    def _fixed_matrix(self, logits):
        # A fully masked row (a padded sequence under an additive finfo.min mask) can overflow to
        # −∞ everywhere; clamped, it is uniform as the model's own softmax makes it, not NaN.
        logits = logits.clamp_min(torch.finfo(logits.dtype).min)
        for f in self.fixes:
            logits = f.logits(self.block, logits, self.site)
        a, uniform = torch.softmax(logits, -1), _uniform_like(logits)
        for f in self.fixes:
            a = f.matrix(self.block, a, uniform)
        return a

    def _logits_product(self, func, args, kwargs):
        """q·kᵀ of eager attention code (a 4-D product with a T×T result): q and k normalised."""
        q, kt = args
        if (not any(q is p for p in self._probs) and q.dim() == 4 and kt.dim() == 4
                and q.shape[-2] == kt.shape[-1] == self._tokens()):
            k = kt.transpose(-2, -1)
            self.attended += 1
            q, k = self._qk(q, k)
            return func(q, k.transpose(-2, -1), **kwargs)
        return func(*args, **kwargs)

    def _tokens(self):
        s = self.stream[0]
        return s.shape[-2] if s.dim() >= 2 else -1

    def _add(self, func, args, kwargs):
        a, b = args
        on = [any(t is s for s in self.stream) for t in (a, b)]
        if (on[0] == on[1] or not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor)
                or a.shape != b.shape or any(n in kwargs for n in ("alpha", "out"))):
            out = func(*args, **kwargs)
            if any(on) and isinstance(out, torch.Tensor):
                self.stream.append(out)
            return out
        branch, stream = (b, a) if on[0] else (a, b)
        if self.record is not None:
            self.record["branches"].append(branch)
            self._post_norm(stream)
        for f in self.fixes:
            branch = f.branch(self.block, branch, self.branches, self.causal)
        self.branches += 1
        out = func(a, branch) if on[0] else func(branch, b)
        self.stream.append(out)
        if self.record is not None:  # only the recording pass asks whether the block is post-norm
            self.joined.append(out)
        return out

    def _post_norm(self, stream):
        """A post-norm block carries on (to its next residual add, or out of the block) with the
        norm of the stream after an add; a pre-norm block's norms feed only its branches."""
        if any(stream is n for n in self.normed):
            self.record["post_norm"] = True

    def check(self):
        """A fix that found no place to act in this call is an error, not a silent no-op."""
        missing = []
        if (self.attend or any("qk" in f.points for f in self.fixes)) and not self.attended:
            missing.append("no attention computation it could reach (F.scaled_dot_product_"
                           "attention, an attention softmax or nn.MultiheadAttention)")
        if any("branch" in f.points for f in self.fixes) and not self.branches:
            missing.append("no branch joining the residual stream (x + f(x) with x the block's "
                           "input, or what a post-norm made of it)")
        if missing:
            names = "+".join(f.name for f in self.fixes)
            raise ValueError(f"sigprop.apply: {names} in block {self.site['layer']} "
                             f"({type(self.block).__name__}) found {'; and '.join(missing)}")

    def _source(self):
        return "sigprop.apply: " + "+".join(f.name for f in self.fixes)


def _as_sdpa_mask(mask):
    """An nn.MultiheadAttention mask (True or −∞: masked) in SDPA's terms (True takes part)."""
    return None if mask is None else (~mask if mask.dtype == torch.bool else mask)


def _causal_mask(mask):
    if mask is None or mask.dim() < 2 or mask.shape[-1] != mask.shape[-2]:
        return False
    future = torch.ones(mask.shape[-2:], dtype=torch.bool, device=mask.device).triu(1)
    blocked = ~mask if mask.dtype == torch.bool else mask <= _MASKED
    return bool(blocked[..., future].all())


class _FixedBlock:
    """The forward of a fixed block: the class's own, under the watch of its fixes."""

    def forward(self, *args, **kwargs):
        if not getattr(self, "_sigprop_acts", True) and getattr(self, "_sigprop_record", None) is None:
            return super().forward(*args, **kwargs)  # fixes of the weights alone: nothing to watch
        watch = _Watch(self, _block_input(args, kwargs))
        with watch:
            out = super().forward(*args, **kwargs)
        if watch.record is not None:
            first = out[0] if isinstance(out, (tuple, list)) and out else out
            if isinstance(first, torch.Tensor):
                watch._post_norm(first)
        watch.check()
        return out


_CLASSES = {}


def _user_class(block):
    """The block's own class, under the Fixed<Class> an earlier fix made of it."""
    cls = type(block)
    return cls.__mro__[2] if issubclass(cls, _FixedBlock) else cls


def _fixed_class(cls):
    if issubclass(cls, _FixedBlock):
        return cls
    if cls not in _CLASSES:
        name = f"Fixed{cls.__name__}"
        fixed = type(name, (_FixedBlock, cls), {"__module__": __name__, "__qualname__": name})
        globals()[name] = fixed  # so that pickling the model finds the class
        _CLASSES[cls] = fixed
    return _CLASSES[cls]


def _width(model, block):
    """The residual stream's width: of the sizes of the block's norms' weights, the one most
    often a side of its matrices (every projection reads or writes the stream; a QK-norm's
    head-sized weight is none); without norms, the most common side."""
    norms = {p.shape[0] for m in block.modules() if "norm" in type(m).__name__.lower()
             for p in m.parameters(recurse=False) if p.dim() == 1}
    sides = [n for p in block.parameters() if p.dim() == 2 for n in p.shape]
    candidates = norms or set(sides)
    return max(candidates, key=lambda n: (sides.count(n), n)) if candidates else None


def _head_dim(model, block, width):
    config = getattr(model, "config", None)
    hd = getattr(config, "head_dim", None)
    if isinstance(hd, int) and hd > 0:
        return hd
    for m in (config, *block.modules()):
        if m is None:
            continue
        hd = getattr(m, "head_dim", None)
        if isinstance(hd, int) and hd > 0:
            return hd
        h = _heads_of(m) if isinstance(m, nn.Module) else None
        if h is None and m is config:
            h = getattr(config, "num_attention_heads", None) or getattr(config, "n_head", None)
        if isinstance(h, int) and h > 0 and width and width % h == 0:
            return width // h
    return None


def _initialise(model, block_list, fix, inputs):
    """The fix's rescaling of the initial weights (points "init"): one forward of `inputs`, in
    eval mode with gradients on, records each block's q, k and branch outputs; the fix reads from
    them which matrices to rescale (sigprop.fixes.base.reached) and rescales them."""
    args, kwargs = _inputs(inputs)
    modes = [(m, m.training) for m in model.modules()]
    frozen = [p for b in block_list for p in b.parameters() if not p.requires_grad]
    records = [{"qk": [], "branches": [], "post_norm": False} for _ in block_list]
    hooks = []
    try:
        model.eval()
        for p in frozen:
            p.requires_grad_(True)  # gradients name the matrices; none is taken or kept
        for block, record in zip(block_list, records):
            block._sigprop_record = record
            hooks += fix.recording(block, record)
        with torch.enable_grad():
            try:
                model(*args, **kwargs)
            except Exception as e:
                raise ValueError(f"sigprop.apply: '{fix.name}' runs the model once to find the "
                                 f"matrices it rescales, and {type(model).__name__} failed on "
                                 f"inputs {_describe(args, kwargs)}: {e}") from e
            draws = [fix.initialise(block, record, block._sigprop_site)
                     for block, record in zip(block_list, records)]
        with torch.no_grad():  # every block checked: only now is any weight changed
            for draw in draws:
                draw()
    finally:
        for hook in hooks:
            hook.remove()
        for block in block_list:
            block.__dict__.pop("_sigprop_record", None)
        for p in frozen:
            p.requires_grad_(False)
        for m, mode in modes:
            m.training = mode


def apply(model, fix, *, inplace=False, blocks=None, width=None, head_dim=None, inputs=None,
          **options):
    """`model` with `fix` in every residual block: a copy, or `model` itself with inplace=True.

    fix       one of sigprop.FIXES: shaped (tau0), gap_removal, value_skipinit, qk_norm (eps),
              layerscale (init; CaiT's by depth when None), rezero (init), scale_1/sqrt(L),
              scale_1/L, similarity_removal (tau, where='both'|'attention'|'mlp'), sandwich
              (kind='layer'|'rms', eps), tat (eta; init='orthogonal'|'keep': the MLP's
              activation module replaced, its matrices scaled-orthogonal, its biases zero),
              deepnorm (alpha, beta: post-norm blocks), gpt2_init (gain); espa and uspa are
              refused with the reason
    blocks    the blocks, as sigprop.probe finds or is told them
    width, head_dim   the residual width and the heads' width, where they cannot be found
    inputs    the model's inputs (as for sigprop.probe), used by deepnorm, gpt2_init and tat,
              which re-initialise weights: run once to see which matrices make q, k, each
              branch and the MLP
    Returns the fixed model. Its blocks are instances of Fixed<Class> (subclasses of the user's
    class); new parameters are named sigprop_<fix>_…; probe it with sigprop.probe.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"sigprop.apply: model must be a torch.nn.Module, not {type(model).__name__}")
    if fix not in FIXES:
        raise ValueError(f"sigprop.apply: unknown fix '{fix}'; the fixes: {', '.join(FIXES)}")
    chosen = FIXES[fix](**options)
    if "init" in chosen.points and inputs is None:
        raise ValueError(f"sigprop.apply: '{fix}' rescales initial weights, and which matrices "
                         f"they are is read from one forward of the model: pass inputs= (a "
                         f"tensor, tuple or dict, as to sigprop.probe)"
                         + (", or init='keep' to keep the model's weights"
                            if "init" in chosen.defaults else ""))
    if not inplace:
        if isinstance(blocks, (list, tuple)):
            raise ValueError("sigprop.apply: blocks=[modules] names modules of the original; "
                             "with a copy pass blocks='dotted.name', or inplace=True")
        model = copy.deepcopy(model)
    block_list, _ = find_blocks(model, blocks)
    undo = [_snapshot(m) for b in block_list for m in b.modules()] if inplace else []
    try:
        _install(model, block_list, chosen, fix, width, head_dim, inputs)
    except Exception:
        for state in undo:  # a refusal leaves the user's own model as it was
            _restore(*state)
        raise
    return model


def _snapshot(m):
    return (m, m.__class__, dict(m._modules), dict(m._parameters), dict(m._buffers),
            {k: v for k, v in vars(m).items() if k.startswith("_sigprop")})


def _restore(m, cls, modules, parameters, buffers, attributes):
    m.__class__ = cls
    for now, then in ((m._modules, modules), (m._parameters, parameters), (m._buffers, buffers)):
        now.clear()
        now.update(then)
    for k in [k for k in vars(m) if k.startswith("_sigprop")]:
        delattr(m, k)
    m.__dict__.update(attributes)


def _install(model, block_list, chosen, fix, width, head_dim, inputs):
    """`chosen` into every block (its parameters, the Fixed<Class>), then its initialisation."""
    depth = len(block_list)
    for layer, block in enumerate(block_list):
        if getattr(block, "_sigprop_fixes", None) and any(f.name == fix for f in block._sigprop_fixes):
            raise ValueError(f"sigprop.apply: block {layer + 1} already has '{fix}'")
        w = width or _width(model, block)
        ref = next((p for p in block.parameters() if p.is_floating_point()), None)
        site = {"layer": layer + 1, "depth": depth, "width": w,
                "where": f"block {layer + 1} ({_user_class(block).__name__})",
                "dtype": torch.get_default_dtype() if ref is None else ref.dtype,
                "device": torch.device("cpu") if ref is None else ref.device,
                "head_dim": head_dim or _head_dim(model, block, w),
                "token_axis": -3 if _seq_first(block) else -2}
        for key, needed in (("width", ("branch", "matrix")), ("head_dim", ("qk",))):
            if site[key] is None and any(p in chosen.points for p in needed) and \
                    (key == "head_dim" or fix in ("layerscale", "shaped", "sandwich")):
                raise ValueError(f"sigprop.apply: cannot tell the {key.replace('_', ' ')} of "
                                 f"{_user_class(block).__name__}, which '{fix}' needs; pass {key}=")
        chosen.install(block, site)
        block._sigprop_fixes = getattr(block, "_sigprop_fixes", []) + [chosen]
        block._sigprop_site = site
        block._sigprop_acts = any(p in ("matrix", "qk", "branch")
                                  for f in block._sigprop_fixes for p in f.points)
        block.__class__ = _fixed_class(type(block))
    if "init" in chosen.points:
        _initialise(model, block_list, chosen, inputs)
