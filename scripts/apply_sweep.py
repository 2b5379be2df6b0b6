"""Every sigprop.apply fix on every family of scripts/probe_models.py (depth 4, width 64, T 16),
each fixed model probed; prints what fails. Usage: .venv/bin/python scripts/apply_sweep.py
(on 2026-12-05 it found the three faults test_apply.py::test_families_the_first_sweep_broke_on
holds; now 11 of 143 pairs are refused, each with its reason: tat on nn.TransformerEncoder, whose
activation is a function, and deepnorm on the nine pre-norm families; deepnorm applies to BERT
and the post-norm nn.TransformerEncoder.)
"""
import math
import os
import sys

import torch

import sigprop

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import probe_models  # noqa: E402


def main():
    probe_models.D, probe_models.T = 64, 16
    failures = []
    for family in probe_models.FAMILIES:
        torch.manual_seed(0)
        build = (probe_models.other_model if family.startswith(("timm", "nn."))
                 else probe_models.transformers_model)
        model, inputs = build(family, 4)
        for fix in sigprop.FIXES:
            if fix in ("espa", "uspa"):
                continue
            try:
                fixed = sigprop.apply(model, fix, inputs=inputs,
                                      **({"eta": 0.3} if fix == "tat" else {}))
                rows = sigprop.probe(fixed, inputs).rows
                if not all(math.isfinite(r["cosine"]) for r in rows):
                    failures.append((family, fix, "non-finite cosine"))
            except Exception as e:  # every failure is reported, none stops the sweep
                failures.append((family, fix, str(e)[:160]))
    for f in failures:
        print(" | ".join(f))
    pairs = len(probe_models.FAMILIES) * (len(sigprop.FIXES) - 2)
    print(f"{len(failures)} of {pairs} (family, fix) pairs failed or were refused")


if __name__ == "__main__":
    main()
