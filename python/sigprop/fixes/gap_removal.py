"""Spectral-gap removal, A⊥ = A − C: paper 003 (docs/methods.md#spectral-gap-removal)."""
from .base import Fix


class GapRemoval(Fix):
    name, points, paper = "gap_removal", ("matrix",), "paper 003 (docs/methods.md#spectral-gap-removal)"

    def matrix(self, block, a, uniform):
        return a - uniform
