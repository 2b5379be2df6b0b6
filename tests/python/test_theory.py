"""sigprop.theory: each study from Python returns the CLI's tables, the same numbers for the
same options and seed."""
import csv
import os
import subprocess

import numpy as np
import pytest

import sigprop

CLI = os.environ.get("SIGPROP_CLI", "sigprop")


def cli_tables(tmp_path, *args):
    out = tmp_path / "study"
    subprocess.run([CLI, "theory", *map(str, args), "--no-plot", "--out", str(out)], check=True,
                   capture_output=True)
    tables = {}
    for name in os.listdir(out):
        if name.endswith(".csv"):
            with open(out / name) as f:
                tables[name[:-4]] = list(csv.DictReader(f))
    return tables


def same(study, tables):
    assert set(study.tables) == set(tables)
    for name, rows in tables.items():
        arr = study.tables[name]
        assert len(arr) == len(rows), name
        for col in rows[0]:
            for i, r in enumerate(rows):
                a, b = arr[col][i], r[col]
                if isinstance(a, str):
                    assert a == b, (name, col, i)
                elif b in ("", "nan"):
                    assert np.isnan(a), (name, col, i)
                else:
                    assert float(a) == pytest.approx(float(b), rel=1e-12, abs=0), (name, col, i)


def test_gradients_study_equals_the_cli(tmp_path):
    s = sigprop.theory.gradients(depths=[2, 4], width=16, seq=8, batch=2, networks=2, seed=3)
    same(s, cli_tables(tmp_path, "gradients", "--depth", "2,4", "--width", 16, "--seq", 8,
                       "--batch", 2, "--networks", 2, "--seed", 3))
    assert "gradients" in repr(s) and s.summary


def test_tat_study_equals_the_cli(tmp_path):
    opts = dict(depth=16, width=32, networks=2, transformer_width=32, seq=8, batch=1, transformers=2)
    s = sigprop.theory.tat(**opts, seed=1)
    same(s, cli_tables(tmp_path, "tat", "--depth", 16, "--width", 32, "--networks", 2,
                       "--transformer-width", 32, "--seq", 8, "--batch", 1, "--transformers", 2,
                       "--seed", 1))


def test_unknown_option_lists_the_allowed_ones():
    with pytest.raises(TypeError, match="allowed: .*networks"):
        sigprop.theory.sde(netwrks=3)
    with pytest.raises(ValueError):
        sigprop.theory.sde(horizon=-1.0)  # the study's own validation, naming the option
