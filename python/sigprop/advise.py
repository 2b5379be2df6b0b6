"""sigprop.advise: will this model train, and which fix? (docs/advise.md)

The same advisor as ``sigprop advise`` (studies/advise/advise.h): the model is probed at
initialisation over a few seeds, each finding judged against its threshold, and candidate fixes
probed the same way and ranked by the score. For sigprop's own models the fixes are applied to
the model's config; for any other model you pass the variants to compare.
"""
import copy
import functools
import json
import math
import os

import torch
from torch import nn

from . import _sigprop
from .apply import apply
from .fixes import FIXES, _Refused
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
           race_out="runs/advise-race", device="cpu", batches=None, train_loss=None,
           optimizer=None, **probe_kw):
    """Diagnose `model` at initialisation and rank fixes for it.

    sigprop's own model (a sigprop.nn.Transformer): exactly ``sigprop advise`` on its config,
        every fix applied to that config and probed on the probe's batch (seq, batch, input,
        seeds: 3 by default); with train_steps > 0 a confirming race on `data` (lr_grid,
        race_out, confirm_top). inputs, loss and variants do not apply.
    any other model: a torch.nn.Module, or a function returning a fresh one (called under
        torch.manual_seed(seed) for each of `seeds`, default 3; a plain module allows seeds=1),
        probed by sigprop.probe on `inputs` with `loss` (see sigprop.probe; further keyword
        arguments such as blocks= and attention= go to it). Ranked: every fix of
        sigprop.FIXES that applies to it, put in by sigprop.apply (fixes= a list of names to
        rank fewer; [] for none; a fix that cannot apply is listed in advice.data['skipped']
        with the reason), and variants={name: module or factory} of your own.
        chance_loss=ln(classes) lets the initial loss be judged (for a cross-entropy loss).
        train_steps=N > 0 confirms the ranking by a race: the model as it is and the top
        `confirm_top` candidates, each a fresh copy (seed 0), trained N steps on batches(step)
        with train_loss(model, batch) -> scalar and optimizer(params) (default AdamW, lr
        lr_grid[1]), the same batches and budget for each; advice.data['race'] has every
        candidate's losses and final loss (the mean of the last tenth of the steps).
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
    if fixes is None:
        fixes = [name for name, f in FIXES.items() if not issubclass(f, _Refused)]
    if isinstance(fixes, str) or not all(isinstance(f, str) and f in FIXES for f in fixes):
        raise ValueError(f"sigprop.advise: fixes must be a list of names from sigprop.FIXES "
                         f"({', '.join(FIXES)}), not {fixes!r}")
    if inputs is None:
        raise ValueError("sigprop.advise: inputs are required for a model that is not sigprop's own")
    if variants is not None and not isinstance(variants, dict):
        raise TypeError(f"sigprop.advise: variants must be a dict of name -> model, not {type(variants).__name__}")
    if seeds is None:
        seeds = 1 if isinstance(model, nn.Module) else 3
    _check_seeds(seeds)
    if train_steps and (not callable(batches) or not callable(train_loss)):
        raise ValueError("sigprop.advise: train_steps > 0 on a model that is not sigprop's own needs "
                         "batches=lambda step: inputs and train_loss=lambda model, batch: loss")
    base = _diagnose(model, inputs, seeds, loss, chance_loss, th, we, probe_kw)
    ranking, skipped, makers = [], [], {}
    candidates = [(f"apply:{f}", _fixed(model, f, probe_kw.get("blocks"), inputs)) for f in fixes]
    candidates += [(str(n), v) for n, v in (variants or {}).items()]
    for name, variant in candidates:
        try:
            d = _diagnose(variant, inputs, seeds, loss, chance_loss, th, we, probe_kw)
        except ValueError as e:
            if not name.startswith("apply:"):
                raise
            skipped.append(f"{name}: {e}")
            continue
        ranking.append({"name": name, "sets": [], "diagnosis": d})
        makers[name] = variant
    def before(a, b):  # the C++ ordering (studies/advise/advise.h: ranks_before)
        return _advise.ranks_before(json.dumps(a), json.dumps(b), tie_break)

    ranking.sort(key=functools.cmp_to_key(lambda a, b: -1 if before(a["diagnosis"], b["diagnosis"]) else
                                          1 if before(b["diagnosis"], a["diagnosis"]) else 0))
    best = ranking[0]["name"] if ranking and before(ranking[0]["diagnosis"], base) else None
    data = {"model": {"name": type(model).__name__, "diagnosis": base}, "verdict": base["verdict"],
            "ranking": ranking, "skipped": skipped, "recommendation": best,
            "thresholds": th, "weights": we, "tie_break": tie_break, "probe": {"seeds": seeds}}
    if train_steps:
        lr = lr_grid[len(lr_grid) // 2]
        entries = [data["model"]] + ranking[:confirm_top]
        racers = [(e, model if e is data["model"] else makers[e["name"]]) for e in entries]
        results = _race(racers, int(train_steps), batches, train_loss,
                        optimizer or (lambda ps: torch.optim.AdamW(ps, lr=lr)))
        best = min(results, key=lambda r: math.inf if r[1]["val_loss"] is None else r[1]["val_loss"])
        data["race"] = {"steps": int(train_steps), "loss": "train", "best": best[0].get("name", "as-is"),
                        "data": "the caller's batches(step) and train_loss(model, batch)",
                        "lr_grid": [] if optimizer else [lr]}
    return Advice(data)


def _fresh(model, seed=0):
    """A new instance of `model` (a factory's, under torch.manual_seed(seed)) or a deep copy."""
    if isinstance(model, nn.Module):
        return copy.deepcopy(model)
    torch.manual_seed(seed)
    return model()


def _fixed(model, fix, blocks, inputs):
    """A factory of `model` with `fix` applied (sigprop.apply, in place on a fresh copy; the
    inputs for the fixes that rescale initial weights)."""
    return lambda: apply(_fresh(model), fix, inplace=True, blocks=blocks, inputs=inputs)


def _race(racers, steps, batches, train_loss, optimizer):
    """Each racer trained `steps` steps on the same batches, from seed 0. Its entry of the advice
    gets "race": {val_loss: the mean training loss of the last tenth of the steps (the C++
    report's column, labelled as training loss), losses, status}; returns (entry, race) pairs."""
    out = []
    for entry, make in racers:
        torch.manual_seed(0)
        m = _fresh(make)
        m.train()
        opt = optimizer([p for p in m.parameters() if p.requires_grad])
        losses = []
        for step in range(steps):
            value = train_loss(m, batches(step))
            if not torch.isfinite(value.detach()):
                losses.append(math.inf)
                break
            opt.zero_grad(set_to_none=True)
            value.backward()
            opt.step()
            losses.append(float(value.detach()))
        tail = losses[-max(1, steps // 10):]
        diverged = math.isinf(losses[-1])
        entry["race"] = {"val_loss": None if diverged else sum(tail) / len(tail),
                         "losses": losses, "status": "diverged" if diverged else "ok"}
        out.append((entry, entry["race"]))
    return out


def fix_recipes():
    """{name: recipe}: each fix as the config keys it sets (its preset against post-ln)."""
    return {name: dict(_advise.fix_recipe(name)) for name in _advise.fix_names()}
