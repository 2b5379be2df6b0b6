"""E-SPA and U-SPA: refused for a foreign model, with the reason (paper 001)."""
from .base import Fix


class _Refused(Fix):
    def __init__(self, **options):
        raise ValueError(f"sigprop.apply: '{self.name}' cannot be applied to a foreign model: "
                         f"{self.reason}")


class ESPA(_Refused):
    name = "espa"
    reason = ("E-SPA replaces each softmax by D_l·softmax(q kᵀ/√d_k + B_l) with A_l solved for "
              "a skipless, normless stack (paper 001); a model with skips and norms keeps its "
              "kernel by them instead. Use sigprop.nn.ESPAAttention in a model built without "
              "skips, or the preset vanilla-espa-tat")


class USPA(ESPA):
    name = "uspa"
