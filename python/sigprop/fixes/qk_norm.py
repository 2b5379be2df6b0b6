"""QK-norm: RMSNorm of each head's q and k with learnable gains (docs/methods.md#qk-norm)."""
import torch
from torch import nn

from .base import Fix, _full


class QKNorm(Fix):
    name, points, paper = "qk_norm", ("qk",), "QK-norm (Dehghani et al. 2023; Qwen3, OLMo 2, Gemma 3)"
    defaults = {"eps": 1e-6}

    def install(self, block, site):
        for n in ("q", "k"):
            block.register_parameter(f"sigprop_qk_norm_{n}",
                                     nn.Parameter(_full(site, (site["head_dim"],), 1.0)))

    def qk(self, block, q, k):
        # RMSNorm over each head's channels; q and k reach this point after any RoPE, which is a
        # rotation per head, so at unit gains this equals QK-norm before RoPE.
        eps = self.options["eps"]

        def rms(x, g):
            if x.shape[-1] != g.shape[0]:
                raise ValueError(f"sigprop.apply: qk_norm was set up for heads of {g.shape[0]} "
                                 f"channels, the model's q has {x.shape[-1]}; pass head_dim=")
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g
        return rms(q, block.sigprop_qk_norm_q), rms(k, block.sigprop_qk_norm_k)
