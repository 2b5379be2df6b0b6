"""sigprop.advise: will this model train, and which fix? (docs/advise.md)

The same advisor as ``sigprop advise`` (studies/advise/advise.h): the model is probed at
initialisation over a few seeds, each finding judged against its threshold, and candidate fixes
probed the same way and ranked by the score. For sigprop's own models the fixes are applied to
the model's config; for any other model you pass the variants to compare.
"""
import functools
import json
import math
import os

import torch
from torch import nn

from . import _sigprop
from .probe import probe

_advise = _sigprop.advise


class Advice:
    """The advice on one model, in advice.json's layout (``sigprop advise``'s file).

    verdict         one line in words
    score           0 = nothing found; lower predicts a model that trains worse
    balance         |log10 gradient spread| + |log10 gq/gv|: the tie-break among equal scores
    findings        one dict per finding: name, present, value, threshold, block, penalty, text
    ranking         the candidates, best first: name, sets (config diff), diagnosis, ...
    recommendation  the best candidate's name when it ranks before the model as it is, else None
    """

    def __init__(self, data):
        self.data = data

    @property
    def verdict(self):
        return self.data["verdict"]

    @property
    def score(self):
        return self.data["model"]["diagnosis"]["score"]

    @property
    def balance(self):
        b = self.data["model"]["diagnosis"].get("balance")
        return math.nan if b is None else b

    @property
    def findings(self):
        return self.data["model"]["diagnosis"]["findings"]

    @property
    def ranking(self):
        return self.data["ranking"]

    @property
    def recommendation(self):
        return self.data.get("recommendation")

    def finding(self, name):
        for f in self.findings:
            if f["name"] == name:
                return f
        names = ", ".join(f["name"] for f in self.findings)
        raise KeyError(f"no finding '{name}'; findings: {names}")

    def to_json(self, path=None):
        """advice.json's text; written atomically to `path` when given."""
        text = json.dumps(self.data, indent=2) + "\n"
        if path is not None:
            tmp = f"{path}.partial-{os.getpid()}"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, path)
        return text

    def __str__(self):
        return _advise.text(json.dumps(self.data))

    def __repr__(self):
        rec = self.recommendation
        return f"Advice({self.verdict}; score {self.score:.2f}" + (f"; recommended: {rec})" if rec else ")")


def _check_seeds(seeds):
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"sigprop.advise: seeds must be an int >= 1, not {seeds!r}")


def _options(thresholds, weights):
    for name, value in (("thresholds", thresholds), ("weights", weights)):
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"sigprop.advise: {name} must be a dict, not {type(value).__name__}")
    return dict(thresholds or {}), dict(weights or {})


def _diagnose(model, inputs, seeds, loss, chance_loss, thresholds, weights, probe_kw):
    """The diagnosis dict of `model` (a module, or a function of no arguments returning one,
    called under torch.manual_seed(seed) once per seed)."""
    rows = []
    for seed in range(seeds):
        if callable(model) and not isinstance(model, nn.Module):
            torch.manual_seed(seed)
            m = model()
            if not isinstance(m, nn.Module):
                raise TypeError("sigprop.advise: a model factory must return a torch.nn.Module, not "
                                f"{type(m).__name__}")
        elif isinstance(model, nn.Module):
            if seeds > 1:
                raise ValueError("sigprop.advise: seeds > 1 needs a model factory (a function returning a "
                                 "fresh model), since one module has one initialisation")
            m = model
        else:
            raise TypeError("sigprop.advise: model must be a torch.nn.Module or a function returning one, not "
                            f"{type(model).__name__}")
        rows.append(probe(m, inputs, loss=loss, seed=seed, **probe_kw).rows)
    chance = math.nan if chance_loss is None else float(chance_loss)
    return json.loads(_advise.diagnose(rows, chance, thresholds, weights))


def advise(model, inputs=None, *, variants=None, loss=None, chance_loss=None, seeds=None,
           thresholds=None, weights=None, tie_break="balance", fixes=None, seq=64, batch=8, input="kjv",
           train_steps=0, confirm_top=3, data="kjv", lr_grid=(3e-4, 1e-3, 3e-3),
           race_out="runs/advise-race", device="cpu", **probe_kw):
    """Diagnose `model` at initialisation and rank fixes for it.

    sigprop's own model (a sigprop.nn.Transformer): exactly ``sigprop advise`` on its config,
        every fix applied to that config and probed on the probe's batch (seq, batch, input,
        seeds: 3 by default); with train_steps > 0 a confirming race on `data` (lr_grid,
        race_out, confirm_top). inputs, loss and variants do not apply.
    any other model: a torch.nn.Module, or a function returning a fresh one (called under
        torch.manual_seed(seed) for each of `seeds`, default 3; a plain module allows seeds=1),
        probed by sigprop.probe on `inputs` with `loss` (see sigprop.probe; further keyword
        arguments such as blocks= and attention= go to it). variants={name: module or factory}
        are the fixes to rank (for example the model rebuilt with sigprop.nn.ShapedAttention);
        chance_loss=ln(classes) lets the initial loss be judged (for a cross-entropy loss).
    thresholds: {collapse_cosine, qk_ratio, spectral_gap, gradient_spread, loss_excess};
    weights: {collapse, qk, gap, spread, loss} (docs/advise.md's calibration).
    tie_break: how equal scores are ordered, "balance" (gradients even over depth and between
        queries and values, the default) or "cosine" (the lower final-layer cosine first).
    Returns an Advice; str(advice) is the terminal summary of ``sigprop advise``.
    """
    th, we = _options(thresholds, weights)
    if tie_break not in ("balance", "cosine"):
        raise ValueError(f"sigprop.advise: tie_break must be 'balance' or 'cosine', not {tie_break!r}")
    if hasattr(model, "_sigprop_trace"):
        for name, value in (("inputs", inputs), ("variants", variants), ("loss", loss)):
            if value is not None:
                raise ValueError(f"sigprop.advise: a sigprop.nn.Transformer is advised on its config "
                                 f"(as `sigprop advise`); {name}= does not apply")
        seeds = 3 if seeds is None else seeds
        _check_seeds(seeds)
        if fixes is not None and (isinstance(fixes, str) or not all(isinstance(f, str) for f in fixes)):
            raise TypeError("sigprop.advise: fixes must be a list of fix names, "
                            f"from {_advise.fix_names()}")
        text = _advise.advise_spec(model._handle.spec_json(), seeds, seq, batch, input, list(fixes or []), True,
                                   th, we, tie_break, int(train_steps), int(confirm_top), data,
                                   [float(x) for x in lr_grid], race_out, device)
        return Advice(json.loads(text))
    if fixes is not None:
        raise ValueError("sigprop.advise: fixes= names sigprop's fixes of its own configs; for another "
                         "model pass variants={name: model or factory}")
    if inputs is None:
        raise ValueError("sigprop.advise: inputs are required for a model that is not sigprop's own")
    if variants is not None and not isinstance(variants, dict):
        raise TypeError(f"sigprop.advise: variants must be a dict of name -> model, not {type(variants).__name__}")
    if seeds is None:
        seeds = 1 if isinstance(model, nn.Module) else 3
    _check_seeds(seeds)
    base = _diagnose(model, inputs, seeds, loss, chance_loss, th, we, probe_kw)
    ranking = []
    for name, variant in (variants or {}).items():
        d = _diagnose(variant, inputs, seeds, loss, chance_loss, th, we, probe_kw)
        ranking.append({"name": str(name), "sets": [], "diagnosis": d})
    def before(a, b):  # the C++ ordering (studies/advise/advise.h: ranks_before)
        return _advise.ranks_before(json.dumps(a), json.dumps(b), tie_break)

    ranking.sort(key=functools.cmp_to_key(lambda a, b: -1 if before(a["diagnosis"], b["diagnosis"]) else
                                          1 if before(b["diagnosis"], a["diagnosis"]) else 0))
    best = ranking[0]["name"] if ranking and before(ranking[0]["diagnosis"], base) else None
    return Advice({"model": {"name": type(model).__name__, "diagnosis": base}, "verdict": base["verdict"],
                   "ranking": ranking, "skipped": [], "recommendation": best,
                   "thresholds": th, "weights": we, "tie_break": tie_break, "probe": {"seeds": seeds}})


def fix_recipes():
    """{name: recipe}: each fix as the config keys it sets (its preset against post-ln)."""
    return {name: dict(_advise.fix_recipe(name)) for name in _advise.fix_names()}
