"""sigprop's fixes as torch.nn.Modules, for use in one's own PyTorch models, and sigprop's whole
model as one. Each class is a thin shell around the C++ module of sigprop's library (src/model/):
the parameters you see (``named_parameters()``, ``state_dict()``) are the very tensors the C++
forward reads, so optimisers, ``.to()``, ``.double()`` and ``load_state_dict`` work as usual, and
gradients flow through sigprop's kernels (registered as ``torch.ops.sigprop.*``).

Inputs are (B, T, d) unless said otherwise. docs/methods.md has every equation.
"""
import json

import torch
from torch import nn

from . import _sigprop

_nn = _sigprop.nn

__all__ = ["Transformer", "ShapedAttention", "ESPAAttention", "USPAAttention",
           "ValueSkipInitAttention", "GapRemovedAttention", "SoftmaxAttention",
           "SimilarityRemoval", "TATLeakyReLU", "ShapedReLU", "LambdaGammaResidual"]


class _Part(nn.Module):
    """A container mirroring one C++ submodule, so names match the C++ model's
    (``blocks.0.attn.w_q.weight``); a list's items by index too (``model.blocks[0]``)."""

    def __getitem__(self, i):
        return self._modules[str(i if i >= 0 else len(self) + i)]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def extra_repr(self):
        own = list(self._parameters.items()) + list(self._buffers.items())
        return ", ".join(f"{k}: {tuple(v.shape)}" for k, v in own)


class _Wrapped(nn.Module):
    """An nn.Module whose parameters and buffers are those of a C++ module (_sigprop.nn.ModuleHandle)."""

    def __init__(self, make):
        super().__init__()
        handle = self._handle = make()  # after Module.__init__: a failed build leaves a sane object
        for name, t in handle.named_parameters():
            owner, leaf = self._owner(name)
            t.__class__ = nn.Parameter  # the same tensor, now an nn.Parameter: no copy, shared
            owner.register_parameter(leaf, t)
        for name, t in handle.named_buffers():
            owner, leaf = self._owner(name)
            owner.register_buffer(leaf, t)

    def _owner(self, name):
        *path, leaf = name.split(".")
        owner = self
        for part in path:
            if part not in owner._modules:
                owner.add_module(part, _Part())
            owner = owner._modules[part]
        return owner, leaf

    def _apply(self, fn):
        # nn.Module converts parameters in place (param.data = ...), which the C++ module sees,
        # but replaces buffers by new tensors, which it would not: convert those in place too.
        buffers = [(m, k, b) for m in self.modules() for k, b in m._buffers.items() if b is not None]
        super()._apply(fn)
        for m, k, b in buffers:
            new = m._buffers[k]
            if new is not b:
                b.data = new
                m._buffers[k] = b
        return self

    def train(self, mode=True):
        self._handle.train(mode)
        return super().train(mode)

    def forward(self, x):
        return self._handle.forward([x])


def _check(name, value, kind, allowed):
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise TypeError(f"{name} must be {allowed}, not {type(value).__name__} {value!r}")
    return value


class Transformer(_Wrapped):
    """sigprop's own model (model/transformer.h) from a preset or config, as an nn.Module.

    spec   a preset name (``sigprop presets``) or a path to a TOML config
    depth, width, heads   shorthands for set={'depth': ...}
    set    more overrides of the config's keys: {'norm': 'pre', 'd_k': 16} or ['norm=pre']
    data   'kjv', 'fashion-mnist' or 'synthetic': size the input and output to that data, as
           ``sigprop train --data`` does (vocabulary, classes, max_seq)
    seq    the sequence length the model must take (with data)
    seed   torch seed for the initialisation (as ``sigprop probe --seeds`` and ``train --seed``);
           None draws from torch's current state

    forward(input): tokens (B, T) int64 -> logits (B, T, V); images (B, C, H, W) -> (B, classes);
    raw (B, T, d) -> (B, T, d). loss(output, target) is the training loss of ``sigprop train``.
    """

    def __init__(self, spec="pre-ln", *, depth=None, width=None, heads=None, set=(), data=None,
                 seq=64, seed=None, _handle=None):
        if _handle is None:
            _check("spec", spec, str, "a preset name or a path to a .toml config")
            overrides = [f"{k}={v}" for k, v in (set.items() if isinstance(set, dict) else [])]
            if not isinstance(set, dict):
                overrides = [_check("set entry", s, str, "a 'key=value' string") for s in set]
            for key, value in (("depth", depth), ("width", width), ("heads", heads)):
                if value is not None:
                    overrides.append(f"{key}={_check(key, value, int, 'an int')}")
            spec_json = _nn.make_spec(spec, overrides, data or "", _check("seq", seq, int, "an int"))
            _handle = _nn.transformer(spec_json, seed)
        super().__init__(lambda: _handle)

    @property
    def spec(self):
        """The model's full config (every key of the [model] table, and its name), as a dict."""
        j = json.loads(self._handle.spec_json())
        return {**j["model"], "name": j["name"]}

    def spec_toml(self):
        """The config as TOML, ready for ``sigprop train --config``."""
        return self._handle.spec_toml()

    def loss(self, output, target):
        """The training loss: next-token or class cross-entropy, or 0.5·MSE for raw input."""
        return self._handle.loss(output, target)

    # The probe's view (sigprop.probe): the C++ model's own trace and gradient norms.
    def _sigprop_trace(self, x):
        return self._handle.trace(x)

    def _sigprop_block_gradients(self):
        return self._handle.block_gradients()

    def extra_repr(self):
        s = self.spec
        return f"{s.get('name')}: depth={s.get('depth')}, width={s.get('width')}, heads={s.get('heads')}"


class _Attention(_Wrapped):
    """Multi-head self-attention with a sigprop attention matrix A (model/attention/):
    out = concat_h(A_h V_h) W_O, Q = X W_Q, K = X W_K, V = X W_V, no biases. The weights start
    N(0, 1/fan_in), variance-preserving as the papers' analyses assume (not torch.nn.Linear's
    U(±1/√fan_in)), W_Q = 0 where the paper says so. causal: future positions masked; max_seq: the
    longest T for variants with input-independent matrices."""

    variant = None

    def __init__(self, width, heads, *, causal=True, d_k=None, max_seq=256, **options):
        _check("width", width, int, "an int")
        _check("heads", heads, int, "an int")
        kw = {k: v for k, v in options.items() if v is not None}
        if d_k is not None:
            kw["d_k"] = d_k
        super().__init__(lambda: _nn.attention(self.variant, width, heads, causal=bool(causal),
                                               max_seq=max_seq, **kw))
        self.width, self.heads, self.causal = width, heads, causal

    def attention(self, x):
        """The attention matrices A of input x: (B, H, T, T), detached."""
        return self._handle.attention(x)

    def extra_repr(self):
        return f"width={self.width}, heads={self.heads}, causal={self.causal}"


class SoftmaxAttention(_Attention):
    """A = softmax(QKᵀ/√d_k): the textbook attention, on sigprop's fused kernel."""
    variant = "softmax"


class ShapedAttention(_Attention):
    """Shaped attention (Noci et al. 2023, paper 004): A = I + softmax(QKᵀ/τ) − (1/T)11ᵀ with
    τ = τ₀√(n n_k); A = I at zero logits, so the block starts as the identity on tokens."""
    variant = "shaped"

    def __init__(self, width, heads, *, tau0=1.0, **kw):
        super().__init__(width, heads, tau0=float(tau0), **kw)


class ESPAAttention(_Attention):
    """Exponential signal-preserving attention (He et al. 2023, paper 001): with W_Q = 0 (the
    paper's init, zero_queries=True) block `layer` (0-based, of `depth`) applies A_l with
    A_l Σ_{l−1} A_lᵀ = Σ_l, Σ_l the E-SPA kernel exp(−γ_l |i − j|) whose γ_l reaches γ_L = gamma
    at the last block: A = D softmax(QKᵀ/√d_k + log(D⁻¹A_l)), D = diag(A_l 1)."""
    variant = "espa"

    def __init__(self, width, heads, *, layer, depth, gamma=0.005, zero_queries=True, **kw):
        super().__init__(width, heads, layer=int(layer), depth=int(depth), gamma=float(gamma),
                         zero_queries=bool(zero_queries), **kw)


class USPAAttention(_Attention):
    """Uniform signal-preserving attention (paper 001): as ESPAAttention with the U-SPA kernel
    Σ_l = (1 − ρ_l) I + ρ_l 11ᵀ, ρ_l reaching ρ_L = rho at the last block."""
    variant = "uspa"

    def __init__(self, width, heads, *, layer, depth, rho=0.8, zero_queries=True, **kw):
        super().__init__(width, heads, layer=int(layer), depth=int(depth), rho=float(rho),
                         zero_queries=bool(zero_queries), **kw)


class ValueSkipInitAttention(_Attention):
    """Value-SkipInit (paper 001): A ← α I + β A_base with trainable α = 1, β = 0 at init."""
    variant = "value_skipinit"

    def __init__(self, width, heads, *, base="softmax", **kw):
        super().__init__(width, heads, base=_check("base", base, str, "a variant name"), **kw)


class GapRemovedAttention(_Attention):
    """Spectral-gap removal (paper 003): A⊥ = A − (1/T)11ᵀ, the base matrix without its
    Perron eigenvalue 1."""
    variant = "gap_removed"

    def __init__(self, width, heads, *, base="softmax", **kw):
        super().__init__(width, heads, base=_check("base", base, str, "a variant name"), **kw)


class SimilarityRemoval(_Wrapped):
    """Similarity removal (Yu & Zhang 2023, paper 000): Y ← (I − τΠ) Y with Π = 11ᵀ/T, or, when
    causal, Y ← (I − τC) Y with C the causal running mean (each position sees only its past)."""

    def __init__(self, tau=1.0, *, causal=True):
        super().__init__(lambda: _nn.similarity_removal(float(tau), bool(causal)))


class TATLeakyReLU(_Wrapped):
    """Tailored activation transformation (paper 001): leaky ReLU √(2/(1+α²))·max(x, αx) with α
    solved so that the C-map through `depth` nonlinearities sends 0 to η."""

    def __init__(self, eta=0.9, depth=1):
        _check("depth", depth, int, "an int")
        super().__init__(lambda: _nn.activation("tat_leaky_relu", eta=float(eta), depth=depth))


class ShapedReLU(_Wrapped):
    """Shaped ReLU (paper 004): √c (s₊ max(x, 0) + s₋ min(x, 0)), s± = 1 + c±/√n with n = width,
    c = 2/(s₊² + s₋²) so that E[φ(z)²] = 1 for z ~ N(0, 1)."""

    def __init__(self, width, c_plus=0.0, c_minus=-1.0):
        _check("width", width, int, "an int")
        super().__init__(lambda: _nn.activation("shaped_relu", width=width, c_plus=float(c_plus),
                                                c_minus=float(c_minus)))


class LambdaGammaResidual(_Wrapped):
    """The shaped transformer's residual (paper 004): λ x + γ f(x), λ = √(1 − γ²).
    forward(x, f_x)."""

    def __init__(self, gamma):
        super().__init__(lambda: _nn.lambda_gamma_residual(float(gamma)))

    def forward(self, x, f_x):
        return self._handle.forward([x, f_x])
