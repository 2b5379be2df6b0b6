"""Shaped attention, A = I + softmax(q·k/τ) − C, τ = τ₀√(n·d_k): paper 004
(docs/methods.md#shaped-attention-and-shaped-relu)."""
import math

import torch

from .base import Fix


class Shaped(Fix):
    name, points, paper = "shaped", ("matrix",), "paper 004 (docs/methods.md#shaped-attention)"
    defaults = {"tau0": 1.0}

    def logits(self, block, logits, site):
        # The model's logits are q·k/√d_k; shaped attention's are q·k/(τ₀√(n·d_k)).
        return logits / (self.options["tau0"] * math.sqrt(site["width"]))

    def matrix(self, block, a, uniform):
        eye = torch.eye(a.shape[-2], a.shape[-1], dtype=a.dtype, device=a.device)
        return eye + a - uniform
