"""The fixes sigprop.apply puts into a model: one file each, one registry (FIXES, by name)."""
from .deepnorm import DeepNorm
from .gap_removal import GapRemoval
from .gpt2_init import GPT2Init
from .layerscale import LayerScale
from .qk_norm import QKNorm
from .rezero import ReZero
from .sandwich import Sandwich
from .shaped import Shaped
from .similarity_removal import SimilarityRemoval
from .spa import ESPA, USPA, _Refused
from .tat import TAT
from .value_skipinit import ValueSkipInit
from .depth_scale import InvDepth, InvSqrtDepth

__all__ = ["FIXES", "_Refused"]

FIXES = {f.name: f for f in (Shaped, GapRemoval, ValueSkipInit, QKNorm, LayerScale, ReZero,
                             InvSqrtDepth, InvDepth, SimilarityRemoval, Sandwich, DeepNorm, GPT2Init, TAT, ESPA,
                             USPA)}
