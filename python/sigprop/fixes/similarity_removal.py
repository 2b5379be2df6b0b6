"""Similarity removal, Y ← (I − τC)Y on branch outputs: paper 000
(docs/methods.md#similarity-removal)."""
import torch

from .base import Fix


class SimilarityRemoval(Fix):
    name, points, paper = "similarity_removal", ("branch",), "paper 000 (docs/methods.md#similarity-removal)"
    defaults = {"tau": 1.0, "where": "both"}

    def branch(self, block, y, index, causal):
        axis = block._sigprop_site["token_axis"]
        where = self.options["where"]
        if where not in ("both", "attention", "mlp"):
            raise ValueError(f"sigprop.apply: similarity_removal where='{where}': allowed "
                             f"'both', 'attention', 'mlp'")
        if (where == "attention" and index != 0) or (where == "mlp" and index != 1):
            return y
        tau = self.options["tau"]
        if causal:  # y_t − τ·mean_{s≤t} y_s: position t reads only 0..t
            shape = [1] * y.dim()
            shape[axis] = y.shape[axis]
            counts = torch.arange(1, y.shape[axis] + 1, dtype=y.dtype, device=y.device)
            return y - tau * y.cumsum(axis) / counts.view(shape)
        return y - tau * y.mean(axis, keepdim=True)
