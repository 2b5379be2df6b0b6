"""sigprop from Python: probe any PyTorch transformer at initialisation with the metrics of
sigprop's C++ library (the same code and columns as ``sigprop probe``'s probe.csv), use every
fix of the papers as a drop-in nn.Module, and move trained models between Python and the CLI.

    import sigprop
    result = sigprop.probe(model, inputs)       # any nn.Module with a stack of repeated blocks
    result.to_pandas(); result.to_csv("probe.csv"); result.plot("probe.png")
    advice = sigprop.advise(model_factory, inputs, variants={...})  # will it train, which fix
    attn = sigprop.nn.ShapedAttention(256, 8)   # the fixes: sigprop.nn.*
    gpt = sigprop.nn.Transformer("vanilla-espa-tat", depth=32, data="kjv")
    trained = sigprop.load_run("runs/train")    # a `sigprop train` run; sigprop.save the reverse
    sigprop.tat.slope(0.9, 16); sigprop.theory.sde(widths=[64])

docs/python.md has a worked example and the API.
"""
import torch  # noqa: F401  (loads LibTorch before the extension that links it)

from ._build_info import CUDA as BUILT_WITH_CUDA, TORCH_BELOW, TORCH_BUILT, TORCH_MIN


def _release(version):
    """(major, minor, patch) of a version string such as '2.11.0+cu130' or '2.12.0a0'."""
    parts = []
    for piece in version.split("+")[0].split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit()) or "0"
        parts.append(int(digits))
    return tuple(parts + [0] * (3 - len(parts)))


def _check_torch():
    """The extension calls LibTorch's C++ API, which changes between minor releases: it runs only
    on the torch release it was compiled against, and that must be in the supported range."""
    running = torch.__version__
    if not (_release(TORCH_MIN) <= _release(running) < _release(TORCH_BELOW)):
        raise ImportError(f"sigprop supports torch >= {TORCH_MIN}, < {TORCH_BELOW}; this environment has "
                          f"torch {running}. Install a supported torch, then reinstall sigprop "
                          f"(pip install --no-build-isolation <sigprop>) so it is built against it.")
    if _release(running)[:2] != _release(TORCH_BUILT)[:2]:
        raise ImportError(f"this sigprop was built against torch {TORCH_BUILT} but the environment has "
                          f"torch {running}: reinstall sigprop (pip install --no-build-isolation --force-reinstall "
                          f"<sigprop>) so it is built against the torch you run.")


_check_torch()

from . import _sigprop  # noqa: E402
from ._sigprop import ConfigError, DataError, METRIC_COLUMNS, tat
from . import nn, theory
from .probe import ProbeResult, find_blocks, probe
from .predict import predict
from .apply import apply
from .fixes import FIXES
from .advise import Advice, advise, fix_recipes
from .runs import evaluate, export, load_run, load_safetensors, save, save_safetensors


def probe_batch(input="kjv", *, width, batch=8, seq=64, seed=0):
    """The batch ``sigprop probe --input INPUT --seeds SEED`` feeds a model: (inputs, targets).
    kjv: (B, T) tokens of King James Bible text and next tokens; gaussian/isometric: raw
    (B, T, width) inputs and an N(0, 1) target."""
    return _sigprop.probe_batch(input, width, batch, seq, seed)


__version__ = _sigprop.version()
__all__ = ["probe", "ProbeResult", "predict", "apply", "FIXES", "advise", "Advice", "fix_recipes", "find_blocks", "probe_batch", "tat", "theory", "nn",
           "load_run", "save", "evaluate", "export", "load_safetensors", "save_safetensors",
           "ConfigError", "DataError", "METRIC_COLUMNS"]
