"""Sandwich (peri-) normalisation: each branch output normalised before it joins the stream,
X ← X + LN(f(X)) (Ding et al. 2021, CogView; "Peri-LN", Kim et al. 2025; Gemma 2's
post-attention and post-feedforward norms) (docs/methods.md#sandwich-norm)."""
from torch import nn

from .base import Fix


class Sandwich(Fix):
    name, points, paper = "sandwich", ("branch",), "CogView's sandwich LN; Peri-LN (Kim et al. 2025)"
    defaults = {"kind": "layer", "eps": 1e-5}

    def install(self, block, site):
        kind = self.options["kind"]
        if kind not in ("layer", "rms"):
            raise ValueError(f"sigprop.apply: sandwich kind='{kind}': allowed 'layer' (LayerNorm) "
                             f"or 'rms' (RMSNorm)")
        make = nn.LayerNorm if kind == "layer" else nn.RMSNorm
        for i in range(2):
            block.add_module(f"sigprop_sandwich_{i}",
                             make(site["width"], eps=self.options["eps"]).to(site["device"], site["dtype"]))

    def branch(self, block, y, index, causal):
        return getattr(block, f"sigprop_sandwich_{min(index, 1)}")(y)
