"""Trained runs both ways: a `sigprop train` run loaded in Python reproduces the CLI's validation
loss; the CLI's safetensors export is the run's weights; a model built and trained a little in
Python is saved as a run that `sigprop train --resume` trains on; safetensors against bytes laid
out by hand from the format's definition; errors that name the file and what was expected."""
import json
import os
import struct
import subprocess

import pytest
import torch

import sigprop
from sigprop import nn as snn

CLI = os.environ.get("SIGPROP_CLI", "sigprop")


def cli(*args):
    return subprocess.run([CLI, *map(str, args)], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs") / "kjv"
    cli("train", "--preset", "pre-ln", "--depth", "2", "--width", "32", "--data", "kjv",
        "--steps", "30", "--batch", "4", "--seq", "32", "--eval-batches", "3", "--out", d)
    return d


def test_load_run_reproduces_the_cli_validation_loss(run):
    model = sigprop.load_run(run)
    assert isinstance(model, torch.nn.Module) and not model.training and model.step == 30
    summary = json.load(open(run / "summary.json"))
    got = sigprop.evaluate(model, run)["val_loss"]
    assert abs(got - summary["val_loss"]) <= 1e-5, (got, summary["val_loss"])


def test_export_writes_the_runs_weights_as_safetensors(run, tmp_path):
    out = tmp_path / "exported"
    cli("export", run, "--format", "safetensors", "--out", out)
    tensors, meta = sigprop.load_safetensors(out / "model.safetensors", metadata=True)
    state = sigprop.load_run(run).state_dict()
    assert list(tensors) == list(state)
    for k, v in state.items():
        assert torch.equal(tensors[k], v), k
    assert meta["step"] == "30"
    assert json.load(open(out / "config.json"))["model"]["depth"] == 2
    # the header is what the format says: 8-byte length, then JSON
    raw = open(out / "model.safetensors", "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    assert header["__metadata__"]["format"] == "pt"
    assert header["wte.weight"]["dtype"] == "F32"


def test_a_python_model_trains_on_with_the_cli(tmp_path):
    model = snn.Transformer("pre-ln", depth=2, width=32, heads=2, data="kjv", seq=32, seed=7)
    x, y = sigprop.probe_batch("kjv", width=32, batch=4, seq=32, seed=1)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(5):  # a few steps of training in Python, on the C++ model's own tensors
        opt.zero_grad()
        loss = model.loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    d = tmp_path / "from-python"
    sigprop.save(model, d, data="kjv", seq=32, batch=4, steps=12, eval_batches=2, lr=1e-3)
    saved = sigprop.load_run(d)
    assert saved.step == 0
    for (k, a), b in zip(model.state_dict().items(), saved.state_dict().values()):
        assert torch.equal(a, b), k
    out = cli("train", "--resume", d)
    assert "completed" in out.stdout
    trained = sigprop.load_run(d)
    assert trained.step == 12
    assert not torch.equal(trained.state_dict()["blocks.0.attn.w_q.weight"],
                           model.state_dict()["blocks.0.attn.w_q.weight"])
    with pytest.raises(ValueError, match="already holds a run"):
        sigprop.save(model, d, data="kjv", seq=32)


def test_save_refuses_what_it_cannot_save_and_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match="sigprop.nn.Transformer"):
        sigprop.save(torch.nn.Linear(2, 2), tmp_path / "a")
    model = snn.Transformer("pre-ln", depth=2, width=32, heads=2, data="synthetic", seq=16, seed=0)
    with pytest.raises(ValueError, match="wte.weight"):
        sigprop.save(model, tmp_path / "b", data="kjv", seq=16)  # built for other data
    assert not (tmp_path / "b").exists()
    with pytest.raises(ValueError, match="unknown training option 'stpes'"):
        sigprop.save(model, tmp_path / "c", data="synthetic", seq=16, stpes=3)
    assert not (tmp_path / "c").exists()


def test_load_run_of_what_is_not_a_run(tmp_path):
    with pytest.raises(ValueError, match="not a run folder"):
        sigprop.load_run(tmp_path)
    with pytest.raises(TypeError, match="dir must be a path"):
        sigprop.load_run(3)


def hand_built(path):
    header = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                         "n": {"dtype": "I64", "shape": [1, 1], "data_offsets": [8, 16]}}).encode()
    data = struct.pack("<2f", 0.5, -3.0) + struct.pack("<q", -7)
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


def test_safetensors_read_from_bytes_laid_out_by_hand(tmp_path):
    p = tmp_path / "hand.safetensors"
    hand_built(p)
    t = sigprop.load_safetensors(p)
    assert torch.equal(t["a"], torch.tensor([0.5, -3.0]))
    assert t["n"].dtype == torch.int64 and t["n"].shape == (1, 1) and t["n"].item() == -7
    q = tmp_path / "again.safetensors"
    sigprop.save_safetensors(q, dict(t), {"who": "test"})
    back, meta = sigprop.load_safetensors(q, metadata=True)
    assert meta == {"who": "test"} and all(torch.equal(back[k], t[k]) for k in t)


def test_truncated_safetensors_names_the_file(tmp_path):
    p = tmp_path / "cut.safetensors"
    hand_built(p)
    p.write_bytes(p.read_bytes()[:-3])
    with pytest.raises(OSError, match="cut.safetensors is not a safetensors file"):
        sigprop.load_safetensors(p)
    with pytest.raises(TypeError, match="dict of str"):
        sigprop.save_safetensors(tmp_path / "x.safetensors", {"a": 1})
    assert not (tmp_path / "x.safetensors").exists()
