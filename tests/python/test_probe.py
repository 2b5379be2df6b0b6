"""sigprop.probe on models nobody here wrote: PyTorch's own nn.TransformerEncoder (post-norm and
norm_first), torchvision's ViT-B/16 (random weights), and a GPT written the way nanoGPT writes
it; each probed with nothing but the model and a batch. Also: what a probe leaves behind (no
hooks, same weights, gradients and modes), bad input, and the result's CSV and figure."""
import math
import os

import pytest
import torch
from torch import nn
import torch.nn.functional as F

import sigprop


def encoder(depth, norm_first, d=64, heads=4):
    layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=4 * d, dropout=0.1,
                                       norm_first=norm_first, batch_first=True)
    return nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)


class CausalSelfAttention(nn.Module):  # nanoGPT's model.py, trimmed
    def __init__(self, d, n_head):
        super().__init__()
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.n_head = n_head

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc, self.gelu, self.c_proj = nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(d), CausalSelfAttention(d, n_head)
        self.ln_2, self.mlp = nn.LayerNorm(d), MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab=50, block=32, d=64, n_head=4, n_layer=6):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, d), wpe=nn.Embedding(block, d),
            h=nn.ModuleList([Block(d, n_head) for _ in range(n_layer)]), ln_f=nn.LayerNorm(d)))
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, idx):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x)), None


def check_rows(result, depth, mlp=True):
    assert len(result.rows) == depth + 1
    for r in result.rows:
        assert set(sigprop.METRIC_COLUMNS) <= set(r)
        assert -1.0 <= r["cosine"] <= 1.0 + 1e-9
        assert 0.0 <= r["t_sim"] <= 1.0 + 1e-9
        assert r["stable_rank"] >= 1.0 - 1e-9
    for r in result.rows[1:]:
        for g in ("grad_q", "grad_k", "grad_v", "grad_o") + (("grad_mlp",) if mlp else ()):
            assert math.isfinite(r[g]) and r[g] >= 0, (g, r[g])
    assert all(math.isnan(result.rows[0][g]) for g in ("grad_q", "attn_sigma1"))


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder(norm_first):
    torch.manual_seed(0)
    model = encoder(6, norm_first)
    result = sigprop.probe(model, torch.randn(4, 16, 64))
    check_rows(result, 6)
    assert result.blocks == "layers"
    for r in result.rows[1:]:  # nn.MultiheadAttention: A reachable, row-stochastic
        assert abs(r["attn_sigma1"] - 1.0) < 0.5
        assert math.isfinite(r["attn_entropy"])


def test_deep_post_norm_against_pre_norm_at_48():
    """The long-standing report: post-norm stacks of 12+ layers are unstable. What the probe
    measures at depth 48 (printed with -s; asserted: both finite, post-norm's W_Q gradient
    relative to W_V at the last block is the smaller)."""
    torch.manual_seed(1)
    x = torch.randn(4, 32, 64)
    post = sigprop.probe(encoder(48, False), x).rows
    pre = sigprop.probe(encoder(48, True), x).rows
    for name, rows in (("post-norm", post), ("norm_first", pre)):
        print(f"{name}: final cosine {rows[-1]['cosine']:.3f}, grad_q/grad_v at block 1 "
              f"{rows[1]['grad_q_over_v']:.3g}, at block 48 {rows[-1]['grad_q_over_v']:.3g}")
        assert all(math.isfinite(r["cosine"]) for r in rows)
    assert post[-1]["grad_q_over_v"] < pre[-1]["grad_q_over_v"]
    assert post[-1]["cosine"] > pre[-1]["cosine"]


def test_torchvision_vit_b_16():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = torchvision.models.vit_b_16(weights=None)
    result = sigprop.probe(model, torch.randn(1, 3, 224, 224))
    check_rows(result, 12)
    assert result.blocks == "encoder.layers"
    assert result.rows[-1]["width"] == 768


def test_nanogpt_style_fused_qkv():
    torch.manual_seed(0)
    model = GPT()
    result = sigprop.probe(model, torch.randint(0, 50, (4, 32)))
    check_rows(result, 6)
    assert result.blocks == "transformer.h"
    for r in result.rows[1:]:  # causal A is triangular: λ₂ from its diagonal, σ₁ ≥ 1
        assert r["attn_sigma1"] >= 1.0 - 1e-6


def test_probe_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = encoder(3, False)
    model.train()
    model.layers[1].eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    p0 = next(model.parameters())
    p0.grad = torch.full_like(p0, 7.0)
    modes = [m.training for m in model.modules()]
    threads = torch.get_num_threads()
    sigprop.probe(model, torch.randn(2, 8, 64))
    assert torch.get_num_threads() == threads
    assert [m.training for m in model.modules()] == modes
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(p0.grad, torch.full_like(p0, 7.0))
    assert all(p.grad is None for p in list(model.parameters())[1:])
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
        assert "forward" not in m.__dict__
    with pytest.raises(ValueError):  # hooks come off on error too
        sigprop.probe(model, torch.randn(2, 8, 63))
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks and "forward" not in m.__dict__


def test_bad_input_names_the_object_and_what_was_expected():
    flat = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    with pytest.raises(ValueError, match="no stack of repeated blocks.*blocks="):
        sigprop.probe(flat, torch.randn(2, 4, 8))
    with pytest.raises(ValueError, match="blocks='nope' is not a ModuleList.*'layers'"):
        sigprop.probe(encoder(2, False), torch.randn(2, 4, 64), blocks="nope")
    with pytest.raises(ValueError, match=r"failed on inputs \(2, 4\) torch.int64"):
        sigprop.probe(encoder(2, False), torch.randint(0, 3, (2, 4)))
    with pytest.raises(TypeError, match="inputs must be a tensor"):
        sigprop.probe(encoder(2, False), [1, 2, 3])

    class NoAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Sequential(nn.Linear(8, 8)) for _ in range(3)])

        def forward(self, x):
            for l in self.layers:
                x = l(x)
            return x

    # No attention anywhere: token metrics stand, attention columns are NaN and say why.
    result = sigprop.probe(NoAttention(), torch.randn(2, 4, 8))
    assert all(math.isnan(r[c]) for r in result.rows[1:]
               for c in ("attn_sigma1", "attn_entropy", "grad_q", "grad_o"))
    assert all(math.isfinite(r["cosine"]) for r in result.rows)
    assert [a["source"] for a in result.attention] == ["none"] * 3
    assert "no scaled_dot_product_attention" in result.attention[0]["detail"]
    assert "attention of blocks [1, 2, 3] not the model's own" in repr(result)


def test_named_blocks_and_attention_mapping():
    class Attn(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.wq, self.wk, self.wv, self.wo = (nn.Linear(d, d, bias=False) for _ in range(4))

        def forward(self, x):
            A = torch.softmax(self.wq(x) @ self.wk(x).transpose(-2, -1) / math.sqrt(x.shape[-1]), -1)
            return self.wo(A @ self.wv(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stack = nn.ModuleList([Attn(16) for _ in range(4)])

        def forward(self, x):
            for b in self.stack:
                x = x + b(x)
            return x

    torch.manual_seed(0)
    net = Net()
    result = sigprop.probe(net, torch.randn(2, 10, 16), blocks="stack",
                           attention={"q": "wq", "k": "wk", "v": "wv", "o": "wo", "heads": 1})
    check_rows(result, 4, mlp=False)
    assert math.isnan(result.rows[1]["grad_mlp"])  # nothing but attention in these blocks
    assert abs(result.rows[1]["attn_sigma1"] - 1.0) < 0.5
    with pytest.raises(ValueError, match=r"attention\['q'\] = 'nope' is not a module with a 2-D weight.*wq"):
        sigprop.probe(net, torch.randn(2, 10, 16), attention={"q": "nope", "k": "wk", "v": "wv"})


def test_csv_pandas_and_figure(tmp_path):
    torch.manual_seed(0)
    result = sigprop.probe(encoder(3, True), torch.randn(2, 8, 64), name="enc")
    path = tmp_path / "probe.csv"
    result.to_csv(str(path))
    lines = path.read_text().splitlines()
    assert lines[0].startswith("preset,depth,width,seed,layer,cosine,t_sim,res,stable_rank")
    assert lines[0].endswith("grad_q_over_v,loss,finite,config_id")
    assert len(lines) == 1 + 4 and lines[1].startswith("enc,3,64,0,0,")
    frame = result.to_pandas()
    assert list(frame["layer"]) == [0, 1, 2, 3]
    assert abs(frame["cosine"].iloc[-1] - result.rows[-1]["cosine"]) < 1e-12
    png = tmp_path / "probe.png"
    result.plot(str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["probe.csv", "probe.png"]  # nothing half-written
    mask = os.umask(0)
    os.umask(mask)
    for f in (path, png):  # as open() would have made them, not mkstemp's 0600
        assert os.stat(f).st_mode & 0o777 == 0o666 & ~mask


def test_tat_maps_are_the_library_s():
    a = sigprop.tat.slope(0.9, 16)
    assert 0 < a < 1
    assert abs(sigprop.tat.cmap_iterate(a, 0.0, 16) - 0.9) < 1e-9
    assert abs(sigprop.tat.cmap(1.0, 0.3) - 0.3) < 1e-12  # slope 1: the identity map
    with pytest.raises(ValueError, match="unreachable"):
        sigprop.tat.slope(0.9, 8)
    assert isinstance(sigprop.ConfigError("x"), ValueError)


def test_an_overflowing_model_is_marked_not_a_crash():
    torch.manual_seed(0)
    model = encoder(6, norm_first=False, d=32)
    with torch.no_grad():
        for b in list(model.layers)[3:]:  # blocks 4-6 overflow float32
            b.linear2.weight.mul_(1e38)
            b.norm2.weight.mul_(1e38)
    result = sigprop.probe(model, torch.randn(2, 8, 32))
    assert [r["finite"] for r in result.rows] == [1, 1, 1, 1, 0, 0, 0]
    assert result.first_non_finite_layer == 4
    assert "NOT FINITE from layer 4" in repr(result)
    assert all(math.isnan(r["cosine"]) for r in result.rows[4:])
    assert all(math.isfinite(r["cosine"]) for r in result.rows[:4])
