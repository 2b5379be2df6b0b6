"""A constant branch gain L^−p: 1/√L (paper 002) or 1/L (CompleteP)
(docs/methods.md#layerscale-rezero-and-constant-branch-scales)."""
from .base import _Gain, _full


class DepthScale(_Gain):
    """A constant branch gain L^−power: 1/√L (paper 002) or 1/L (CompleteP)."""
    slug = "depth_scale"

    def gain(self, site):
        return _full(site, (), site["depth"] ** -self.power)


class InvSqrtDepth(DepthScale):
    name, power, paper = "scale_1/sqrt(L)", 0.5, "paper 002 (docs/methods.md#the-block)"


class InvDepth(DepthScale):
    name, power, paper = "scale_1/L", 1.0, "CompleteP (Dey et al. 2025)"
