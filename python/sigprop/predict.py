"""``sigprop.predict``: signal propagation of a sigprop model predicted from its configuration
alone (``sigprop predict``; docs/theory.md): per layer, the token cosine and t_sim, the attention
entropy and |λ₂|, and log10 |∇W_Q|/|∇W_V|, by a recursion on T×T kernels; beside the probe with
``compare_probe=True``; trainability maps with ``map=True``.

    p = sigprop.predict("post-ln", depth=32)
    p["predict"]["cosine"]                       # per layer, layer 0 = the embedded input
    p = sigprop.predict(sigprop.nn.Transformer("pre-ln", depth=12), compare_probe=True, widths=[256])
"""
from . import _sigprop
from .nn import Transformer, _check
from .theory import Study, _options

__all__ = ["predict"]


def _spec_json(spec, depth, width, heads, set):
    if isinstance(spec, Transformer):
        if depth is not None or width is not None or heads is not None or set:
            raise TypeError("sigprop.predict: a Transformer carries its own config; pass depth=, "
                            "width=, heads=, set= with a preset name or .toml path instead")
        return spec._handle.spec_json()
    _check("spec", spec, str, "a preset name, a path to a .toml config, or a sigprop.nn.Transformer")
    overrides = ([f"{k}={v}" for k, v in set.items()] if isinstance(set, dict)
                 else [_check("set entry", s, str, "a 'key=value' string") for s in set])
    for key, value in (("depth", depth), ("width", width), ("heads", heads)):
        if value is not None:
            overrides.append(f"{key}={_check(key, value, int, 'an int')}")
    return _sigprop.nn.make_spec(spec, overrides, "", 64)


def predict(spec="pre-ln", *, depth=None, width=None, heads=None, set=(), compare_probe=False,
            **options):
    """Predict ``spec`` (a preset name, a .toml path, or a ``sigprop.nn.Transformer``).

    Options (the CLI's, underscores for dashes): input ('kjv' | 'gaussian' | 'isometric'), seq,
    batch, seeds, paths, quadrature, seed; compare_probe with widths (default [64, 256, 1024]);
    map, map_size, map_seq, map_paths, alpha_min, alpha_max, logit_min, logit_max, map_check,
    map_check_width. Returns a ``sigprop.theory.Study``: tables 'predict' (and 'predict_map',
    'predict_map_depth', 'predict_map_check' with map=True), .summary, .params.
    """
    o = _options("sigprop.predict", _sigprop.theory.PredictOptions, options)
    if compare_probe and not o.widths:
        o.widths = [64, 256, 1024]
    if not compare_probe and o.widths:
        raise TypeError("sigprop.predict: widths= are the widths of compare_probe=True; pass "
                        "compare_probe=True, or width= for the model's own width")
    return Study("predict", _sigprop.theory.predict(o, [_spec_json(spec, depth, width, heads, set)]))
