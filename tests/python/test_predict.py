"""sigprop.predict: the kernel recursion from Python, against the probe of the same models and
against the CLI's numbers; bad arguments refused by name."""
import numpy as np
import pytest

import sigprop


def test_prediction_beside_the_probe():
    p = sigprop.predict("post-ln", depth=6, compare_probe=True, widths=[256], seeds=3, batch=1, seq=16)
    t = p["predict"]
    assert list(t["layer"]) == list(range(7))
    # The probe of three width-256 networks: cosine within 0.05 at every layer, and the
    # comparison is not vacuous: the cosine grows by far more than that over the depth.
    assert np.max(np.abs(t["cosine"] - t["probe_cosine"])) < 0.05
    assert t["cosine"][-1] - t["cosine"][0] > 0.3
    assert np.isnan(t["entropy"][0]) and np.all(np.isfinite(t["entropy"][1:]))


def test_a_transformer_predicts_as_its_config():
    model = sigprop.nn.Transformer("pre-ln", depth=4, width=64)
    a = sigprop.predict(model, seeds=1, batch=1, seq=16)["predict"]
    b = sigprop.predict("pre-ln", depth=4, width=64, seeds=1, batch=1, seq=16)["predict"]
    np.testing.assert_array_equal(a["cosine"], b["cosine"])
    np.testing.assert_array_equal(a["log10_grad_q_over_v"], b["log10_grad_q_over_v"])


def test_map():
    p = sigprop.predict("post-ln", depth=8, map=True, map_size=5, seeds=1, batch=1, seq=16)
    m = p["predict_map"]
    assert len(m) == 25
    assert np.all((m["cosine"] > -0.1) & (m["cosine"] <= 1.0 + 1e-9))
    assert len(p["predict_map_depth"]) == 9 * 5


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(TypeError, match="unknown option 'wdths'"):
        sigprop.predict("pre-ln", wdths=[64])
    with pytest.raises(TypeError, match="compare_probe"):
        sigprop.predict("pre-ln", widths=[64])
    with pytest.raises(sigprop.ConfigError, match="no-such-preset"):
        sigprop.predict("no-such-preset")
    with pytest.raises(sigprop.ConfigError, match="paths"):
        sigprop.predict("pre-ln", paths=0)
    with pytest.raises(TypeError, match="carries its own config"):
        sigprop.predict(sigprop.nn.Transformer("pre-ln", depth=2), depth=4)
