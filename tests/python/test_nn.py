"""sigprop.nn: sigprop's model and each fix as an nn.Module. The whole model against the PyTorch
reference written from the equations (tests/parity/reference.py): forward, loss and every
gradient to 1e-5·(1 + max|ref|) in float32, as the C++ parity tests; each fix keeps its defining
property; sigprop's kernels as torch.ops pass gradcheck in float64; bad input says what it needs."""
import math
import os
import sys

import pytest
import torch
from torch import nn

import sigprop
from sigprop import nn as snn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "parity"))
import reference  # noqa: E402

PRESETS = ["pre-ln", "post-ln", "post-ln-scaled", "post-ln-simremove", "vanilla-espa-tat",
           "vanilla-uspa-tat", "vanilla-vskipinit-tat", "noln-espa-tat", "gap-removed", "shaped"]


def close(a, b, what):
    a, b = a.detach().double(), b.detach().double()
    assert a.shape == b.shape, what
    diff = (a - b).abs().max().item()
    assert diff <= 1e-5 * (1 + b.abs().max().item()), f"{what}: max |diff| = {diff}"


@pytest.mark.parametrize("preset", PRESETS)
def test_transformer_equals_the_reference_forward_loss_and_every_gradient(preset):
    depth = 16 if preset.endswith("-tat") else 3  # TAT's η = 0.9 needs ≥ 13 nonlinearities
    model = snn.Transformer(preset, depth=depth, width=32, heads=2, data="synthetic", seq=16, seed=1)
    ref = reference.Transformer(model.spec)
    missing, unexpected = ref.load_state_dict(model.state_dict(), strict=False)
    assert not unexpected and all("sinusoid" in k for k in missing), (missing, unexpected)
    g = torch.Generator().manual_seed(0)
    vocab = model.spec["vocab_size"]
    x = torch.randint(vocab, (4, 16), generator=g)
    y = torch.randint(vocab, (4, 16), generator=g)
    out, out_ref = model(x), ref(x)
    close(out, out_ref, "output")
    loss, loss_ref = model.loss(out, y), nn.functional.cross_entropy(
        out_ref.reshape(-1, vocab), y.reshape(-1))
    close(loss, loss_ref, "loss")
    loss.backward()
    loss_ref.backward()
    ref_params = dict(ref.named_parameters())
    named = list(model.named_parameters())
    assert len(named) == len(ref_params)
    for name, p in named:
        assert isinstance(p, nn.Parameter)
        close(p.grad, ref_params[name].grad, f"grad of {name}")


def test_parameters_are_the_models_own_tensors():
    model = snn.Transformer("pre-ln", depth=2, width=16, heads=2, data="synthetic", seq=8, seed=0)
    x = torch.randint(model.spec["vocab_size"], (2, 8))
    before = model(x).detach()
    with torch.no_grad():
        model.blocks[0].attn.w_v.weight.zero_()  # the C++ forward reads this very tensor
    assert not torch.allclose(model(x), before)
    model.load_state_dict({k: v.clone() for k, v in
                           snn.Transformer("pre-ln", depth=2, width=16, heads=2, data="synthetic",
                                           seq=8, seed=0).state_dict().items()})
    close(model(x), before, "after load_state_dict")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.loss(model(x), x).backward()
    opt.step()  # a Python optimiser moves the C++ weights
    assert not torch.allclose(model(x), before)
    model.double()  # .to() converts the tensors in place: the C++ model runs in float64
    assert model(x).dtype == torch.float64
    assert model.blocks[0].attn.w_q.weight.dtype == torch.float64


@pytest.mark.parametrize("preset", ["vanilla-espa-tat", "post-ln"])
def test_probe_of_a_sigprop_transformer_equals_the_cli_probe_csv(tmp_path, preset):
    import csv
    import subprocess
    cli = os.environ.get("SIGPROP_CLI", "sigprop")
    out = tmp_path / "probe"
    subprocess.run([cli, "probe", "--preset", preset, "--depth", "16", "--width", "32",
                    "--seq", "32", "--batch", "4", "--seeds", "1", "--input", "kjv", "--no-plot",
                    "--out", str(out)], check=True, capture_output=True)
    with open(out / "probe.csv") as f:
        cli_rows = list(csv.DictReader(f))
    model = snn.Transformer(preset, depth=16, width=32, data="kjv", seq=32, seed=0)
    x, y = sigprop.probe_batch("kjv", width=32, batch=4, seq=32, seed=0)
    rows = sigprop.probe(model, x, loss=lambda out: model.loss(out, y)).rows
    assert len(rows) == len(cli_rows) == 17
    compared = 0
    for mine, theirs in zip(rows, cli_rows):
        for col in sigprop.METRIC_COLUMNS:
            if col not in theirs:
                continue
            a, b = mine[col], theirs[col]
            if b in ("", "nan"):
                assert a is None or math.isnan(a), (col, mine["layer"], a)
                continue
            b = float(b)
            assert abs(a - b) <= 1e-5 * max(1.0, abs(b)), (col, mine["layer"], a, b)
            compared += 1
    assert compared > 200


def test_the_probe_sees_each_variants_own_attention():
    x = torch.randn(2, 16, 32)
    shaped = snn.Transformer("shaped", depth=4, width=32, set={"input": "raw"}, seed=0)
    softmax = snn.Transformer("post-ln", depth=4, width=32, set={"input": "raw"}, seed=0)
    rows_shaped, rows_softmax = sigprop.probe(shaped, x).rows[1:], sigprop.probe(softmax, x).rows[1:]
    # I + softmax − C has negative entries (no row entropy) and is near I (σ₂ near 1); a softmax
    # is a stochastic matrix with a row entropy. A probe that recomputed softmax(QKᵀ) for every
    # model would find an entropy in both.
    assert all(math.isnan(r["attn_entropy"]) and r["attn_sigma2"] > 0.8 for r in rows_shaped)
    assert all(r["attn_entropy"] > 0 for r in rows_softmax)


def attention_input(T=8, d=16, B=2, dtype=torch.float32):
    return torch.randn(B, T, d, generator=torch.Generator().manual_seed(3), dtype=dtype)


def zero_queries(m):
    with torch.no_grad():
        m.w_q.weight.zero_()


@pytest.mark.parametrize("causal", [False, True])
def test_shaped_attention_is_the_identity_at_zero_logits(causal):
    m = snn.ShapedAttention(16, 2, causal=causal)
    zero_queries(m)
    A = m.attention(attention_input())
    close(A, torch.eye(8).expand_as(A), "A")


@pytest.mark.parametrize("cls,key", [(snn.ESPAAttention, "espa"), (snn.USPAAttention, "uspa")])
def test_spa_attention_maps_the_kernel_of_block_l_minus_1_to_block_l(cls, key):
    T, L = 8, 6
    spec = {"depth": L, "attention": key, "espa_gamma": 0.005, "uspa_rho": 0.8}
    for layer in (0, 2, 5):
        m = cls(16, 2, layer=layer, depth=L, causal=True, max_seq=T)  # W_Q = 0 at init, as the paper
        A = m.attention(attention_input(T))[0, 0].double()
        S_prev, S = reference.spa_kernel(spec, T, layer), reference.spa_kernel(spec, T, layer + 1)
        close(A @ S_prev @ A.T, S, f"A Σ Aᵀ at block {layer}")


def test_value_skipinit_starts_as_the_identity_and_learns_alpha_beta():
    m = snn.ValueSkipInitAttention(16, 2)
    A = m.attention(attention_input())
    close(A, torch.eye(8).expand_as(A), "A")
    names = dict(m.named_parameters())
    assert "matrix.alpha" in names and "matrix.beta" in names
    m(attention_input()).sum().backward()
    assert names["matrix.beta"].grad is not None


@pytest.mark.parametrize("causal", [False, True])
def test_gap_removed_attention_has_no_perron_eigenvalue(causal):
    m = snn.GapRemovedAttention(16, 2, causal=causal)
    A = m.attention(attention_input())
    close(A.sum(-1), torch.zeros(A.shape[:-1]), "row sums of A⊥")


def test_similarity_removal_leaves_no_mean_token():
    y = attention_input()
    out = snn.SimilarityRemoval(1.0, causal=False)(y)
    close(out.mean(1), torch.zeros(2, 16), "mean token")  # t_sim = 0
    causal = snn.SimilarityRemoval(0.5, causal=True)(y)
    running = y.cumsum(1) / torch.arange(1, 9).view(1, 8, 1)
    close(causal, y - 0.5 * running, "causal: y_t − τ mean_{s≤t} y_s")


def test_tat_leaky_relu_is_the_solved_slope():
    eta, n = 0.8, 12
    slope = sigprop.tat.slope(eta, n)
    assert abs(sigprop.tat.cmap_iterate(slope, 0.0, n) - eta) < 1e-9
    x = torch.linspace(-3, 3, 101)
    expected = math.sqrt(2 / (1 + slope ** 2)) * torch.where(x > 0, x, slope * x)
    close(snn.TATLeakyReLU(eta, n)(x), expected, "TAT leaky ReLU")


def test_shaped_relu_and_lambda_gamma_residual():
    x = torch.linspace(-2, 2, 41)
    n, cp, cm = 64, 0.5, -1.0
    s_pos, s_neg = 1 + cp / math.sqrt(n), 1 + cm / math.sqrt(n)
    gain = math.sqrt(2 / (s_pos ** 2 + s_neg ** 2))  # E[φ(z)²] = 1 for z ~ N(0, 1)
    close(snn.ShapedReLU(n, cp, cm)(x), gain * (s_pos * x.clamp_min(0) + s_neg * x.clamp_max(0)),
          "shaped ReLU")
    a, b = attention_input(), attention_input(T=8) * 2
    close(snn.LambdaGammaResidual(0.6)(a, b), 0.8 * a + 0.6 * b, "λx + γf")


MODULES = [
    lambda: snn.SoftmaxAttention(8, 2, causal=True),
    lambda: snn.ShapedAttention(8, 2, causal=False),
    lambda: snn.ESPAAttention(8, 2, layer=1, depth=4, max_seq=6),
    lambda: snn.USPAAttention(8, 2, layer=1, depth=4, max_seq=6),
    lambda: snn.ValueSkipInitAttention(8, 2),
    lambda: snn.GapRemovedAttention(8, 2),
    lambda: snn.SimilarityRemoval(0.7),
    lambda: snn.TATLeakyReLU(0.8, 8),
    lambda: snn.ShapedReLU(8),
]


@pytest.mark.parametrize("make", MODULES)
def test_every_module_passes_gradcheck_in_float64(make):
    m = make().double()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.3 * torch.randn_like(p))  # away from init's zeros, so every path is live
    x = torch.randn(2, 6, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(m, (x,), eps=1e-6, atol=1e-5)


def test_lambda_gamma_residual_gradcheck():
    m = snn.LambdaGammaResidual(0.3)
    x = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    f = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(m, (x, f))


def test_kernels_are_torch_ops_with_gradients():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 4, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(6, 4, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, generator=g, requires_grad=True)
    close(torch.ops.sigprop.affine(x, w, b), nn.functional.linear(x, w, b), "affine")
    assert torch.autograd.gradcheck(torch.ops.sigprop.affine, (x, w, b))
    H, dk, T = 2, 3, 5
    qkv = torch.randn(2, T, H * 3 * dk, dtype=torch.float64, generator=g, requires_grad=True)
    bias = torch.randn(T, T, dtype=torch.float64, generator=g)
    r = torch.rand(T, 1, dtype=torch.float64, generator=g) + 0.5
    C = torch.randn(T, T, dtype=torch.float64, generator=g)

    def op(t):
        return torch.ops.sigprop.softmax_attention(t, H, dk, dk, 0.7, True, bias, r, C)
    assert torch.autograd.gradcheck(op, (qkv,))
    # the definition, by plain ops
    q, k, v = (t.view(2, T, H, dk).transpose(1, 2) for t in qkv.split(H * dk, -1))
    S = 0.7 * q @ k.transpose(-1, -2) + bias
    S = S.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    A = r * S.softmax(-1) + C
    close(op(qkv), (A @ v).transpose(1, 2).reshape(2, T, H * dk), "softmax_attention")
    with pytest.raises(RuntimeError, match="qkv must be"):
        torch.ops.sigprop.softmax_attention(qkv[..., :-1], H, dk, dk, 1.0, False)


def test_bad_input_names_what_is_expected(tmp_path):
    with pytest.raises(ValueError, match="pre-ln"):
        snn.Transformer("no-such-preset")
    with pytest.raises(ValueError, match="nope"):
        snn.Transformer("pre-ln", set=["nope=1"])
    with pytest.raises(TypeError, match="depth must be an int"):
        snn.Transformer("pre-ln", depth="deep")
    model = snn.Transformer("pre-ln", depth=2, width=16, heads=2, data="synthetic", seq=8, seed=0)
    with pytest.raises(ValueError, match="integer token ids"):
        model(torch.randn(2, 8))
    with pytest.raises(ValueError, match="max_seq"):
        model(torch.zeros(1, 10_000, dtype=torch.long))
    with pytest.raises(ValueError, match="not a multiple of heads"):
        snn.ShapedAttention(30, 4)
    with pytest.raises(ValueError, match=r"width = 16"):
        snn.ShapedAttention(16, 2)(torch.randn(2, 8, 12))
    with pytest.raises(ValueError, match="same shape"):
        snn.LambdaGammaResidual(0.5)(torch.randn(2, 3), torch.randn(3, 2))
    with pytest.raises(ValueError, match="eta"):
        snn.TATLeakyReLU(0.9999, 2)


class ShapedBlock(nn.Module):
    """A user's own block built from sigprop.nn: paper 004's shaped transformer block."""

    def __init__(self, d, heads, gamma):
        super().__init__()
        self.attn = snn.ShapedAttention(d, heads, causal=False)
        self.res = snn.LambdaGammaResidual(gamma)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), snn.ShapedReLU(4 * d), nn.Linear(4 * d, d))

    def forward(self, x):
        x = self.res(x, self.attn(x))
        return self.res(x, self.mlp(x))


def test_a_model_made_of_sigprop_modules_trains_and_is_probed_with_its_own_attention():
    torch.manual_seed(0)
    model = nn.Sequential(*[ShapedBlock(32, 4, 0.35) for _ in range(6)])
    x = torch.randn(4, 16, 32)
    result = sigprop.probe(model, x)
    assert len(result.rows) == 7
    assert all(math.isnan(r["attn_entropy"]) for r in result.rows[1:])  # I + softmax − C, not softmax
    assert all(r["grad_q"] > 0 and r["grad_mlp"] > 0 for r in result.rows[1:])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    target = torch.randn(4, 16, 32)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = (model(x) - target).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0]
