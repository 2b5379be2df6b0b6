"""TAT: each block's MLP nonlinearity replaced by the tailored leaky ReLU of paper 001
(docs/methods.md#tat-leaky-relu), φ(x) = √(2/(1+α²))·max(x, αx) with α such that the C-map
through N = depth nonlinearities sends 0 to η; and, as TAT pairs it (Zhang et al. 2022), the
MLP's matrices re-drawn scaled-orthogonal with zero biases (docs/methods.md#initialisation)."""
import math

import torch
from torch import nn

from .base import Fix, matrices, reached

# Elementwise nonlinearities a block may hold as a module: PyTorch's and transformers' classes.
_ACTIVATIONS = (nn.ReLU, nn.GELU, nn.SiLU, nn.Tanh, nn.LeakyReLU, nn.ELU, nn.Mish, nn.Sigmoid)


def _is_activation(module):
    """PyTorch's activation classes, and transformers' parameter-free ones (its activations
    module: GELUTanh, NewGELUActivation, SiLUActivation, ...)."""
    return isinstance(module, _ACTIVATIONS) or (
        type(module).__module__ == "transformers.activations"
        and not any(True for _ in module.parameters()))


class TATActivation(nn.Module):
    """√(2/(1+α²))·max(x, αx) with α = sigprop.tat.slope(eta, depth) (the library's bisection,
    src/math/tat.cpp): plain PyTorch, so a fixed model deep-copies and pickles."""

    def __init__(self, eta, depth):
        super().__init__()
        from .. import tat
        self.eta, self.depth = float(eta), int(depth)
        self.alpha = tat.slope(self.eta, self.depth)
        self.gain = math.sqrt(2.0 / (1.0 + self.alpha ** 2))

    def forward(self, x):
        return self.gain * torch.maximum(x, self.alpha * x)

    def extra_repr(self):
        return f"eta={self.eta}, depth={self.depth}, alpha={self.alpha:.6g}"


def _out_in(module, weight):
    """`weight` of `module` as (fan_out, fan_in) (a view): nn.Linear's layout, or transformers'
    Conv1D's transpose (GPT-2: weight (in, out), `nf` outputs); None for any other module."""
    if isinstance(module, nn.Linear) or {"in_features", "out_features"} <= set(vars(module)):
        return weight
    if type(module).__name__ == "Conv1D" and getattr(module, "nf", None) == weight.shape[1]:
        return weight.t()
    return None


def scaled_orthogonal_(w):
    """DKS/TAT's SUO draw into `w` (fan_out × fan_in, possibly a view): a Haar (semi-)orthogonal
    matrix (torch.nn.init.orthogonal_) times √max(1, fan_out/fan_in), as model.init =
    "orthogonal" draws sigprop's own MLPs (src/model/init.cpp)."""
    q = torch.nn.init.orthogonal_(torch.empty(w.shape, dtype=torch.float64))
    w.copy_(q * math.sqrt(max(1.0, w.shape[0] / w.shape[1])))


class TAT(Fix):
    name, paper = "tat", "paper 001 (docs/methods.md#tat-leaky-relu)"
    defaults = {"eta": 0.9, "init": "orthogonal"}

    def __init__(self, **options):
        super().__init__(**options)
        if self.options["init"] not in ("orthogonal", "keep"):
            raise ValueError(f"sigprop.apply: tat init must be 'orthogonal' (TAT's scaled-"
                             f"orthogonal MLP weights, zero biases) or 'keep' (the model's own), "
                             f"not {self.options['init']!r}")
        self.points = ("activation",) + (("init",) if self.options["init"] == "orthogonal" else ())

    def install(self, block, site):
        found = [(parent, child_name) for parent in block.modules()
                 for child_name, child in parent.named_children() if _is_activation(child)]
        if not found:
            raise ValueError(
                f"sigprop.apply: tat needs the MLP's nonlinearity as a module (nn.GELU, nn.ReLU, "
                f"transformers.activations' classes) and {site['where']} has none (a function "
                f"such as F.relu cannot be replaced without editing the model; "
                f"nn.TransformerEncoderLayer takes activation=nn.ReLU())")
        try:
            tat = TATActivation(self.options["eta"], site["depth"])
        except ValueError as e:
            raise ValueError(f"sigprop.apply: tat eta={self.options['eta']} over the model's "
                             f"{site['depth']} blocks: {e} (the option here is eta=)") from e
        for parent, child_name in found:
            setattr(parent, child_name, tat)

    def recording(self, block, record):
        record["activations"] = []
        keep = lambda module, args, out: record["activations"].append((args[0], out))
        return [m.register_forward_hook(keep) for m in block.modules()
                if isinstance(m, TATActivation)]

    def initialise(self, block, record, site):
        """The MLP's matrices, told by what they compute: those the activation's input depends
        on, and those downstream of its output (their gradient changes with it: W₂ of W₂φ(h),
        a gate's up-projection), less any matrix a branch not through the activation depends on
        (a sequential block's MLP reads the attention's output; a parallel block's does not)."""
        where = site["where"]
        acts, branches = record["activations"], record["branches"]
        ins, outs = [h for h, _ in acts], [o for _, o in acts]
        gen = torch.Generator(device=outs[0].device if outs else "cpu").manual_seed(0)
        project = lambda y: (y * torch.randn(y.shape, generator=gen, dtype=y.dtype,
                                             device=y.device)).sum()
        linked = lambda y, xs: any(g is not None and g.any() for g in torch.autograd.grad(
            project(y), xs, allow_unused=True, retain_graph=True))
        through = [linked(y, outs) for y in branches] if outs else []
        refuse = lambda why: ValueError(f"sigprop.apply: tat init='orthogonal' re-draws the MLP's "
                                        f"matrices, and {where} {why}; pass init='keep' to keep "
                                        f"the model's weights")
        if not acts or not any(through):
            raise refuse("ran no activation it replaced" if not acts else
                         "has no branch through its activation joining the stream")
        weights = matrices(block)
        reach = lambda ys: [m is not None for m in reached(ys, weights)] if ys else [False] * len(weights)
        feeding, qk = reach(ins), reach(record["qk"])
        other = reach([y for y, t in zip(branches, through) if not t])
        mlp = [f and not o for f, o in zip(feeding, other)]
        # downstream: only matrices no other branch and no q, k depend on are asked (their
        # gradients need no second derivative of the attention kernel)
        asked = [i for i in range(len(weights)) if not (feeding[i] or other[i] or qk[i])]
        mlp_ys = [y for y, t in zip(branches, through) if t]
        if asked and mlp_ys:
            grads = torch.autograd.grad(sum(project(y) for y in mlp_ys), [weights[i] for i in asked],
                                        allow_unused=True, create_graph=True, retain_graph=True)
            for i, g in zip(asked, grads):
                mlp[i] = g is not None and g.requires_grad and linked(g, outs)
        if any(m and q for m, q in zip(mlp, qk)):
            raise refuse("computes its queries or keys from its MLP's activation")
        own = [w for w, m in zip(weights, mlp) if m]
        owners = {id(m.weight): m for m in block.modules()
                  if isinstance(getattr(m, "weight", None), torch.Tensor)}
        held = [(owners.get(id(w)), w) for w in own]
        views = [None if m is None else _out_in(m, w) for m, w in held]
        for (m, w), view in zip(held, views):  # every matrix checked before any is drawn
            if view is None:
                raise refuse(f"holds a {tuple(w.shape)} MLP matrix in "
                             f"{type(m).__name__ if m is not None else 'no module'}, whose input "
                             f"side it cannot tell (nn.Linear and transformers' Conv1D are known)")

        def draw():
            for (m, _), view in zip(held, views):
                scaled_orthogonal_(view)
                if isinstance(getattr(m, "bias", None), torch.Tensor):
                    m.bias.zero_()
        return draw
