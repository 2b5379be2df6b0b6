"""DeepNorm (DeepNet, Wang et al. 2022): post-norm blocks x ← LN(α·x + f(x)) with α = (2N)^{1/4},
and at initialisation every matrix of the block except W_Q and W_K scaled by β = (8N)^{−1/4}, N the
number of blocks (encoder- or decoder-only; docs/methods.md#deepnorm)."""
from .base import Fix, _full, matrices, positive, reached


class DeepNorm(Fix):
    name, points, paper = "deepnorm", ("branch", "init"), "DeepNet (Wang et al. 2022)"
    defaults = {"alpha": None, "beta": None}

    def install(self, block, site):
        alpha = positive(self, "alpha", (2 * site["depth"]) ** 0.25)
        # LN(αx + f) = LN(x + f/α), LN's ε divided by α²: α goes in as the branch gain 1/α
        block.register_buffer("sigprop_deepnorm_gain", _full(site, (), 1.0 / alpha))

    def branch(self, block, y, index, causal):
        return y * block.sigprop_deepnorm_gain

    def initialise(self, block, record, site):
        where = site["where"]
        if not record["post_norm"]:
            raise ValueError(f"sigprop.apply: deepnorm is for post-norm blocks, LN(x + f(x)), and "
                             f"{where} carries on no normalised stream after a residual add (a "
                             f"pre-norm block's norms, F.layer_norm or F.rms_norm, feed only its "
                             f"branches); there α would only rescale the branches: use "
                             f"scale_1/sqrt(L) or layerscale")
        if not record["qk"]:
            raise ValueError(f"sigprop.apply: deepnorm leaves W_Q and W_K unscaled, and {where} "
                             f"showed no attention computation to find them by")
        beta = positive(self, "beta", (8 * site["depth"]) ** -0.25)
        weights = matrices(block)
        parts = reached(record["qk"], weights)

        def draw():
            for w, qk in zip(weights, parts):
                if qk is None:
                    w.mul_(beta)
                else:
                    w[~qk] *= beta  # a fused QKV matrix: its V part only
        return draw
