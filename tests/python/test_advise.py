"""sigprop.advise: a foreign model (PyTorch's own nn.TransformerEncoder, post-norm against
norm_first as the variant) diagnosed and ranked; sigprop's own model advised exactly as the CLI
advises it; bad arguments refused with a message naming them."""
import json
import math
import os
import subprocess

import pytest
import torch
from torch import nn

import sigprop


def encoder(depth, norm_first, d=32, heads=2):
    layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=2 * d, dropout=0.0,
                                       norm_first=norm_first, batch_first=True)
    return nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)


def test_foreign_post_norm_collapses_and_norm_first_is_recommended():
    x = torch.randn(2, 16, 32, generator=torch.Generator().manual_seed(0))
    advice = sigprop.advise(lambda: encoder(24, False), x, seeds=2, fixes=[],
                            variants={"norm_first": lambda: encoder(24, True)})
    collapse = advice.finding("rank_collapse")
    assert collapse["present"], collapse["text"]
    assert collapse["value"] > 0.9 and collapse["threshold"] == 0.9
    assert advice.score < 0
    assert advice.recommendation == "norm_first"
    first = advice.ranking[0]["diagnosis"]
    assert first["score"] > advice.score
    # norm_first drifts toward collapse too at depth 24 (past 0.9 here), far less than post-norm.
    first_collapse = [f for f in first["findings"] if f["name"] == "rank_collapse"][0]
    assert first_collapse["value"] < collapse["value"] and first_collapse["penalty"] < collapse["penalty"] - 1
    text = str(advice)
    assert "recommended: norm_first" in text and "tokens collapse" in text
    # Weights and thresholds reach the C++ judgement.
    lenient = sigprop.advise(lambda: encoder(24, False), x, seeds=2, fixes=[],
                             thresholds={"collapse_cosine": 0.99999})
    assert not lenient.finding("rank_collapse")["present"]
    unweighted = sigprop.advise(lambda: encoder(24, False), x, seeds=2, fixes=[],
                                weights={"collapse": 0})
    assert unweighted.score > advice.score


def test_foreign_variants_follow_the_cpp_ordering():
    # Equal scores are common among fixes that work; their order is the C++ tie-break's.
    x = torch.randn(2, 16, 32, generator=torch.Generator().manual_seed(1))
    variants = {f"norm_first_{n}": (lambda n=n: encoder(n, True)) for n in (2, 6, 12)}
    variants["post_norm_12"] = lambda: encoder(12, False)
    for tie in ("balance", "cosine"):
        advice = sigprop.advise(lambda: encoder(12, False), x, seeds=2, variants=variants,
                                tie_break=tie, fixes=[])
        assert advice.data["tie_break"] == tie
        ds = [c["diagnosis"] for c in advice.ranking]
        assert len(ds) == 4
        for a, b in zip(ds, ds[1:]):
            assert not sigprop._sigprop.advise.ranks_before(json.dumps(b), json.dumps(a), tie)
        if tie == "balance":
            assert all(math.isfinite(d["balance"]) for d in ds)
            tied = [d["balance"] for d in ds if d["score"] == ds[0]["score"]]
            assert tied == sorted(tied)


def test_foreign_model_ranks_every_fix_that_applies_and_races_the_top():
    """sigprop.apply's fixes ranked for nn.TransformerEncoder post-norm at depth 12, then the
    top two raced against the model as it is on the caller's own batches and loss."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 16, 32, generator=g)
    inputs = [torch.randn(4, 16, 32, generator=g) for _ in range(4)]
    target = torch.nn.Linear(32, 32)  # a fixed map of the tokens to learn

    def batches(step):
        xb = inputs[step % 4]
        with torch.no_grad():
            return xb, target(xb).tanh()

    def train_loss(model, batch):
        xb, yb = batch
        return (model(xb) - yb).pow(2).mean()

    advice = sigprop.advise(lambda: encoder(12, False), x, seeds=2, train_steps=20,
                            batches=batches, train_loss=train_loss, confirm_top=2)
    names = [c["name"] for c in advice.ranking]
    expected = [f"apply:{f}" for f in sigprop.FIXES if f not in ("espa", "uspa", "tat")]
    assert sorted(names) == sorted(expected)
    # nn.TransformerEncoderLayer's default activation is the function F.relu: TAT cannot reach it
    assert [s.split(":")[1] for s in advice.data["skipped"]] == ["tat"]
    assert "nonlinearity as a module" in advice.data["skipped"][0]
    assert advice.recommendation in names
    raced = [advice.data["model"]] + advice.ranking[:2]
    for entry in raced:
        r = entry["race"]
        assert len(r["losses"]) == 20 and r["status"] == "ok"
        assert abs(r["val_loss"] - sum(r["losses"][-2:]) / 2) < 1e-12  # the last tenth
    assert all("race" not in c for c in advice.ranking[2:])
    best = min(raced, key=lambda e: e["race"]["val_loss"])
    assert advice.data["race"]["best"] == best.get("name", "as-is")
    text = str(advice)
    assert "final training loss" in text and "tr. loss" in text and "the race's best" in text

    class MLPBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(32, 32)

        def forward(self, h):
            return h + torch.tanh(self.fc(h))

    class MLPOnly(nn.Module):  # residual blocks with no attention: the attention fixes left out
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([MLPBlock() for _ in range(4)])

        def forward(self, h):
            for layer in self.layers:
                h = layer(h)
            return h

    advice = sigprop.advise(MLPOnly(), x, fixes=["shaped", "layerscale", "qk_norm"])
    assert [c["name"] for c in advice.ranking] == ["apply:layerscale"]
    assert [s.split(":")[1] for s in advice.data["skipped"]] == ["shaped", "qk_norm"]
    assert "no attention computation" in advice.data["skipped"][0]
    assert "cannot tell the head dim" in advice.data["skipped"][1]
    with pytest.raises(ValueError, match="fixes must be a list of names from sigprop.FIXES"):
        sigprop.advise(MLPOnly(), x, fixes=["nope"])
    with pytest.raises(ValueError, match="train_steps > 0 .* needs batches="):
        sigprop.advise(MLPOnly(), x, fixes=[], train_steps=5)


def test_own_model_is_advised_as_the_cli_advises_it(tmp_path):
    model = sigprop.nn.Transformer("post-ln", depth=8, width=32, heads=2, set={"mlp_width": 64}, seed=0)
    advice = sigprop.advise(model, seeds=1, seq=16, batch=2, fixes=["pre-ln", "post-ln-scaled"])
    assert [c["name"] for c in advice.ranking] and {c["name"] for c in advice.ranking} == {"pre-ln", "post-ln-scaled"}
    pre = [c for c in advice.ranking if c["name"] == "pre-ln"][0]
    assert pre["sets"] == ["norm=pre"]
    out = tmp_path / "cli"
    subprocess.run([os.environ.get("SIGPROP_CLI", "sigprop"), "advise", "--preset", "post-ln", "--depth", "8", "--width", "32",
                    "--heads", "2", "--set", "mlp_width=64", "--seeds", "1", "--seq", "16", "--batch", "2",
                    "--fixes", "pre-ln,post-ln-scaled", "--no-plot", "--out", str(out)],
                   check=True, capture_output=True)
    cli = json.loads((out / "advice.json").read_text())
    assert cli["model"]["diagnosis"]["score"] == pytest.approx(advice.score, rel=1e-9, abs=1e-12)
    assert [c["name"] for c in cli["ranking"]] == [c["name"] for c in advice.ranking]
    advice.to_json(tmp_path / "advice.json")
    assert json.loads((tmp_path / "advice.json").read_text())["verdict"] == advice.verdict
    assert sigprop.fix_recipes()["pre-ln"] == {"norm": "pre"}


def test_bad_arguments_are_refused():
    x = torch.randn(1, 8, 32)
    with pytest.raises(ValueError, match="seeds > 1 needs a model factory"):
        sigprop.advise(encoder(2, False), x, seeds=2)
    with pytest.raises(ValueError, match="seeds must be an int"):
        sigprop.advise(lambda: encoder(2, False), x, seeds=0)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        sigprop.advise("post-ln", x)
    with pytest.raises(ValueError, match="inputs are required"):
        sigprop.advise(encoder(2, False))
    with pytest.raises(ValueError, match="unknown key 'collapse'"):
        sigprop.advise(encoder(2, False), x, thresholds={"collapse": 0.9})
    with pytest.raises(ValueError, match="tie_break must be 'balance' or 'cosine'"):
        sigprop.advise(encoder(2, False), x, tie_break="loss")
    with pytest.raises(TypeError, match="variants must be a dict"):
        sigprop.advise(encoder(2, False), x, variants=[encoder(2, True)])
    model = sigprop.nn.Transformer("post-ln", depth=2, width=32, heads=2, seed=0)
    with pytest.raises(ValueError, match="inputs= does not apply"):
        sigprop.advise(model, x)
    with pytest.raises(ValueError, match="unknown fix 'pre-lm'"):
        sigprop.advise(model, fixes=["pre-lm"], seq=16, batch=2, seeds=1)
    with pytest.raises(KeyError, match="findings: rank_collapse"):
        sigprop.advise(encoder(2, False), x).finding("collapse")
