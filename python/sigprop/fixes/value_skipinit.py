"""Value-SkipInit, A ← αI + βA with α = 1, β = 0 at init: paper 001
(docs/methods.md#e-spa-u-spa-and-value-skipinit)."""
import torch
from torch import nn

from .base import Fix, _full


class ValueSkipInit(Fix):
    name, points, paper = "value_skipinit", ("matrix",), "paper 001 (docs/methods.md#e-spa-u-spa-and-value-skipinit)"

    def install(self, block, site):
        block.register_parameter("sigprop_value_skipinit_alpha", nn.Parameter(_full(site, (), 1.0)))
        block.register_parameter("sigprop_value_skipinit_beta", nn.Parameter(_full(site, (), 0.0)))

    def matrix(self, block, a, uniform):
        eye = torch.eye(a.shape[-2], a.shape[-1], dtype=a.dtype, device=a.device)
        return block.sigprop_value_skipinit_alpha * eye + block.sigprop_value_skipinit_beta * a
