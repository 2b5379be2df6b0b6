"""Trained runs both ways: a ``sigprop train`` run folder as an nn.Module, a model built in Python
saved as a run that ``sigprop train --resume`` trains further, and safetensors files.
The C++ library (train/run_files.h, core/safetensors.h) does the reading and writing."""
import collections
import json
import os

import torch

from . import _sigprop
from .nn import Transformer

__all__ = ["load_run", "save", "evaluate", "export", "load_safetensors", "save_safetensors"]


def _path(name, value):
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), not {type(value).__name__}")
    return os.fspath(value)


def _transformer(model, what):
    if not isinstance(model, Transformer):
        raise TypeError(f"{what} takes a sigprop.nn.Transformer, not {type(model).__name__}; "
                        "build one with sigprop.nn.Transformer(preset, ...) or sigprop.load_run(dir)")
    return model


def load_run(dir):
    """The trained model of a ``sigprop train`` run folder (its last checkpoint), in eval mode.
    ``model.step`` is the step the checkpoint holds."""
    handle, step = _sigprop.load_run(_path("dir", dir))
    model = Transformer(_handle=handle).eval()
    model.step = step
    return model


def evaluate(model, dir):
    """`model` on the held-out batches of the run in `dir`, as ``sigprop train`` evaluates it:
    {'val_loss', 'val_bpc', 'val_accuracy'} (NaN where it does not apply)."""
    return _sigprop.evaluate_run(_transformer(model, "sigprop.evaluate")._handle, _path("dir", dir))


def save(model, dir, **train):
    """Saves `model` as a new run in `dir` that starts from its weights: ``sigprop train --resume
    DIR`` then trains it. `train` sets the run's training options (``sigprop train``'s, by their
    run.json names: data, steps, batch, seq, lr, optimizer, seed, ...). The model must fit the
    data: build it with ``sigprop.nn.Transformer(..., data=...)``. The optimiser starts fresh at
    step 0. Refuses a folder that already holds a run."""
    model = _transformer(model, "sigprop.save")
    _sigprop.save_run(model._handle, _path("dir", dir), json.dumps(train))


def export(run, out=None, format="safetensors"):
    """``sigprop export RUN``: writes model.safetensors and config.json; returns their paths."""
    return _sigprop.export_run(_path("run", run), format, "" if out is None else _path("out", out))


def load_safetensors(path, *, metadata=False):
    """The tensors of a safetensors file, in file order (an OrderedDict); with metadata=True,
    (tensors, metadata dict)."""
    tensors, meta = _sigprop.load_safetensors(_path("path", path))
    tensors = collections.OrderedDict(tensors)
    return (tensors, dict(meta)) if metadata else tensors


def save_safetensors(path, tensors, metadata=None):
    """Writes a dict of tensors (e.g. a state_dict) as a safetensors file, atomically."""
    if not isinstance(tensors, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                for k, v in tensors.items()):
        raise TypeError("sigprop.save_safetensors: tensors must be a dict of str -> torch.Tensor")
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    _sigprop.save_safetensors(_path("path", path), list(tensors.items()), meta)
