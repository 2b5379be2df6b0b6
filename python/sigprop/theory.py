"""The theory studies from Python: each runs the C++ study of ``sigprop theory NAME`` with the
same options (keyword arguments, the CLI's option names with underscores) and returns its tables
as numpy structured arrays, the numbers of the CLI's CSV files for the same seed.

    s = sigprop.theory.sde(widths=[64], paths=512, networks=256, seed=0)
    s.tables["final_rho"]["rho"]; print(s.summary)
"""
import csv
import io
import json

import numpy as np

from . import _sigprop

_t = _sigprop.theory

__all__ = ["Study", "sde", "tat", "markov", "escalation", "gradients"]


class Study:
    """A finished study: .tables (CSV name without .csv -> numpy structured array), .summary
    (the printed summary), .params (the options, as run.json records them)."""

    def __init__(self, name, result):
        self.name = name
        self.tables = {f[:-4] if f.endswith(".csv") else f: _table(text) for f, text in result["tables"]}
        self.summary = result["summary"]
        self.params = json.loads(result["params"])

    def __getitem__(self, table):
        return self.tables[table]

    def __repr__(self):
        return f"<sigprop.theory.{self.name}: tables {', '.join(self.tables)}>"


def _column(values):
    """int64 if every value is an integer, float64 if every one is a number (empty: NaN), else str."""
    try:
        return np.array([int(v) for v in values], dtype=np.int64)
    except ValueError:
        pass
    try:
        return np.array([float(v) if v != "" else np.nan for v in values], dtype=np.float64)
    except ValueError:
        return np.array(values, dtype=str)


def _table(text):
    reader = csv.reader(io.StringIO(text))
    names = next(reader)
    rows = list(reader)
    columns = [_column([r[i] for r in rows]) for i in range(len(names))]
    table = np.empty(len(rows), dtype=[(n, c.dtype) for n, c in zip(names, columns)])
    for n, c in zip(names, columns):
        table[n] = c
    return table


def _options(caller, options_class, kwargs):
    """An options object with kwargs set; unknown names and wrong types refused naming `caller`."""
    o = options_class()
    allowed = sorted(a for a in dir(o) if not a.startswith("_"))
    for key, value in kwargs.items():
        if key not in allowed:
            raise TypeError(f"{caller}: unknown option '{key}'; allowed: {', '.join(allowed)}")
        try:
            setattr(o, key, value)
        except TypeError as e:
            raise TypeError(f"{caller}: {key}={value!r} has the wrong type "
                            f"(now {getattr(o, key)!r})") from e
    return o


def _run(name, options_class, kwargs):
    return Study(name, getattr(_t, name)(_options(f"sigprop.theory.{name}", options_class, kwargs)))


def sde(**options):
    """``sigprop theory sde``: the shaped transformer's covariance SDE beside finite networks
    (paper 004). Options: gamma, tau0, mlp, c_plus, c_minus, tokens, rho0, horizon, step, paths,
    widths, key_width, networks, full_networks, reduced, seed."""
    return _run("sde", _t.SdeOptions, options)


def tat(**options):
    """``sigprop theory tat``: TAT C-maps and slopes, measured MLPs and transformers (paper 001)."""
    return _run("tat", _t.TatOptions, options)


def markov(**options):
    """``sigprop theory markov``: random-Markov attention spectra and stable ranks (paper 003)."""
    return _run("markov", _t.MarkovOptions, options)


def escalation(**options):
    """``sigprop theory escalation``: t_div contraction against |λ₂| (paper 000). presets=[...]."""
    return _run("escalation", _t.EscalationOptions, options)


def gradients(**options):
    """``sigprop theory gradients``: query/key vs value gradients against depth (paper 002)."""
    return _run("gradients", _t.GradientsOptions, options)
