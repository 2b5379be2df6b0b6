"""TAT: each block's MLP nonlinearity replaced by the tailored leaky ReLU of paper 001
(docs/methods.md#tat-leaky-relu), φ(x) = √(2/(1+α²))·max(x, αx) with α such that the C-map
through N = depth nonlinearities sends 0 to η."""
import math

import torch
from torch import nn

from .base import Fix

# Elementwise nonlinearities a block may hold as a module: PyTorch's and transformers' classes.
_ACTIVATIONS = (nn.ReLU, nn.GELU, nn.SiLU, nn.Tanh, nn.LeakyReLU, nn.ELU, nn.Mish, nn.Sigmoid)


def _is_activation(module):
    """PyTorch's activation classes, and transformers' parameter-free ones (its activations
    module: GELUTanh, NewGELUActivation, SiLUActivation, ...)."""
    return isinstance(module, _ACTIVATIONS) or (
        type(module).__module__ == "transformers.activations"
        and not any(True for _ in module.parameters()))


class TATActivation(nn.Module):
    """√(2/(1+α²))·max(x, αx) with α = sigprop.tat.slope(eta, depth) (the library's bisection,
    src/math/tat.cpp): plain PyTorch, so a fixed model deep-copies and pickles."""

    def __init__(self, eta, depth):
        super().__init__()
        from .. import tat
        self.eta, self.depth = float(eta), int(depth)
        self.alpha = tat.slope(self.eta, self.depth)
        self.gain = math.sqrt(2.0 / (1.0 + self.alpha ** 2))

    def forward(self, x):
        return self.gain * torch.maximum(x, self.alpha * x)

    def extra_repr(self):
        return f"eta={self.eta}, depth={self.depth}, alpha={self.alpha:.6g}"


class TAT(Fix):
    name, points, paper = "tat", ("activation",), "paper 001 (docs/methods.md#tat-leaky-relu)"
    defaults = {"eta": 0.9}

    def install(self, block, site):
        found = [(parent, child_name) for parent in block.modules()
                 for child_name, child in parent.named_children() if _is_activation(child)]
        if not found:
            raise ValueError(
                f"sigprop.apply: tat needs the MLP's nonlinearity as a module (nn.GELU, nn.ReLU, "
                f"transformers.activations' classes) and block {site['layer']} "
                f"({type(block).__name__}) has none (a function such as F.relu cannot be replaced "
                f"without editing the model; nn.TransformerEncoderLayer takes activation=nn.ReLU())")
        try:
            tat = TATActivation(self.options["eta"], site["depth"])
        except ValueError as e:
            raise ValueError(f"sigprop.apply: tat eta={self.options['eta']} over the model's "
                             f"{site['depth']} blocks: {e} (the option here is eta=)") from e
        for parent, child_name in found:
            setattr(parent, child_name, tat)
