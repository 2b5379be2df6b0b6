"""ReZero / SkipInit: a learnable scalar gain on each branch, zero at init
(docs/methods.md#layerscale-rezero-and-constant-branch-scales)."""
from torch import nn

from .base import _Gain, _full


class ReZero(_Gain):
    name, slug, paper = "rezero", "rezero", "ReZero (Bachlechner et al. 2021) / SkipInit (De & Smith 2020)"
    defaults = {"init": 0.0}

    def gain(self, site):
        return nn.Parameter(_full(site, (), self.options["init"]))
