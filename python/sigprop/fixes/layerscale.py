"""LayerScale: a learnable per-channel gain on each branch, small at init
(docs/methods.md#layerscale-rezero-and-constant-branch-scales)."""
from torch import nn

from .base import _Gain, _full


class LayerScale(_Gain):
    name, slug, paper = "layerscale", "layerscale", "LayerScale (Touvron et al. 2021, CaiT)"
    defaults = {"init": None}

    def gain(self, site):
        init = self.options["init"]
        if init is None:  # CaiT's: 0.1 up to depth 18, 1e-5 up to 24, 1e-6 deeper
            init = 0.1 if site["depth"] <= 18 else 1e-5 if site["depth"] <= 24 else 1e-6
        return nn.Parameter(_full(site, (site["width"],), init))
