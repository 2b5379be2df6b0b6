"""A fix of sigprop.apply: its options, the parameters it adds to a block, and what it does at
its points of attachment (sigprop/apply.py finds them while the block runs)."""
import torch
from torch import nn

_MASKED = -1e4  # logits at or below this are a mask's, not the model's (finfo.min, −inf)


def _full(site, shape, value):
    """A new tensor of the block's own dtype and device (a float64 model gets float64 gains)."""
    return torch.full(shape, float(value), dtype=site["dtype"], device=site["device"])


def _uniform_like(logits):
    """C: the attention at zero logits under the model's own mask (uniform over allowed keys)."""
    return torch.softmax(torch.where(logits <= _MASKED, logits, torch.zeros_like(logits)), -1)


class Fix:
    """One fix: its options, the parameters it adds to a block, and what it does at its points."""

    name = ""
    points = ()      # of "matrix", "qk", "branch"
    paper = ""

    def __init__(self, **options):
        unknown = set(options) - set(self.defaults)
        if unknown:
            raise ValueError(f"sigprop.apply: fix '{self.name}' has no option "
                             f"{', '.join(sorted(unknown))}; its options: "
                             f"{', '.join(f'{k}={v!r}' for k, v in self.defaults.items()) or 'none'}")
        self.options = {**self.defaults, **options}

    defaults = {}

    def install(self, block, site):
        """Registers the fix's parameters on `block` (site: layer, depth, width, head_dim)."""

    def recording(self, block, record):
        """Hooks (removed after it) for apply's recording forward, for what the fix's
        initialise needs beyond q, k and the branches."""
        return []

    def initialise(self, block, record, site):
        """Points "init": checks the block and returns what rescales its initial weights (a
        function, run once every block has been checked, so a refusal changes nothing); record:
        the block's q, k ("qk") and branch outputs ("branches") of one forward, and whether a
        norm followed a residual add."""

    def logits(self, block, logits, site):
        return logits

    def matrix(self, block, a, uniform):
        return a

    def qk(self, block, q, k):
        return q, k

    def branch(self, block, y, index, causal):
        return y


def reached(outputs, params):
    """For each of `params`, a boolean mask of the entries `outputs` depend on (a nonzero
    gradient of a random projection of them; None where none is), or None. A fused matrix (GPT-2's
    c_attn, nn.MultiheadAttention's in_proj) is thereby split into its q, k and v parts by what
    they compute, not by names or layouts."""
    gen = torch.Generator(device=outputs[0].device).manual_seed(0)
    proj = [torch.randn(o.shape, generator=gen, dtype=o.dtype, device=o.device) for o in outputs]
    grads = torch.autograd.grad(outputs, params, proj, allow_unused=True, retain_graph=True)
    return [None if g is None or not g.any() else g != 0 for g in grads]


def positive(fix, key, default):
    """Option `key` of `fix`, a positive number, or `default` when it is None."""
    value = fix.options[key]
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"sigprop.apply: {fix.name} {key} must be a positive number, not {value!r}")
    return float(value)


def matrices(block):
    """The block's 2-D parameters (its projections)."""
    return [p for p in block.parameters() if p.dim() == 2]


class _Gain(Fix):
    """y ← g·y on every branch, g one of the block's parameters or buffers per branch."""
    points = ("branch",)

    def gain(self, site):
        raise NotImplementedError

    def install(self, block, site):
        for i in range(2):
            g = self.gain(site)
            if isinstance(g, nn.Parameter):
                block.register_parameter(f"sigprop_{self.slug}_{i}", g)
            else:
                block.register_buffer(f"sigprop_{self.slug}_{i}", g)

    def branch(self, block, y, index, causal):
        g = getattr(block, f"sigprop_{self.slug}_{min(index, 1)}")
        return y * g
