"""sigprop from Python: probe any PyTorch transformer at initialisation, with the metrics of
sigprop's C++ library (the same code and columns as ``sigprop probe``'s probe.csv).

    import sigprop
    result = sigprop.probe(model, inputs)       # any nn.Module with a stack of repeated blocks
    result.to_pandas(); result.to_csv("probe.csv"); result.plot("probe.png")
    sigprop.tat.slope(0.9, 16)                  # TAT leaky ReLU (paper 001)

docs/python.md has a worked example and the API.
"""
import torch  # noqa: F401  (loads LibTorch before the extension that links it)

from . import _sigprop
from ._sigprop import ConfigError, DataError, METRIC_COLUMNS, tat
from .probe import ProbeResult, find_blocks, probe

__version__ = _sigprop.version()
__all__ = ["probe", "ProbeResult", "find_blocks", "tat", "ConfigError", "DataError",
           "METRIC_COLUMNS"]
