"""sigprop.apply on models nobody here wrote: transformers' GPT-2 (sdpa and eager attention) and
LLaMA (grouped-query, RoPE), PyTorch's nn.TransformerEncoder (batch-first and sequence-first).
Each fix keeps its defining property, measured through the attention the probe captures or the
block's own output against the unfixed model's (same weights): shaped A = I at zero logits; gap
removal's rows sum to 0; Value-SkipInit's A = I at init; QK-norm's unit-RMS q and k; LayerScale,
ReZero and 1/√L, 1/L as their gains; similarity removal (I − τC)Y. Fixed causal models stay
causal; the changed pieces pass gradcheck in float64; a fixed model trains with torch.optim and
round-trips through state_dict; what cannot apply is refused with the reason."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

import sigprop

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

B, T, V, D = 2, 12, 50, 32


def gpt2(implementation="sdpa"):
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(n_embd=D, n_layer=3, n_head=4, vocab_size=V, n_positions=T)
    return transformers.GPT2LMHeadModel._from_config(cfg, attn_implementation=implementation).eval()


def llama():
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(hidden_size=D, intermediate_size=64, num_hidden_layers=3,
                                   num_attention_heads=4, num_key_value_heads=2, vocab_size=V,
                                   max_position_embeddings=T)
    return transformers.LlamaForCausalLM._from_config(cfg, attn_implementation="sdpa").eval()


class PostNormGPT2Block(transformers.models.gpt2.modeling_gpt2.GPT2Block):
    """GPT-2's block with its norms after the residual adds, as the original Transformer has them."""

    def forward(self, hidden_states, cache=None, attention_mask=None, *args, use_cache=False, **kw):
        a, _ = self.attn(hidden_states, cache=cache, attention_mask=attention_mask,
                         use_cache=use_cache, **kw)
        h = self.ln_1(hidden_states + a)
        return self.ln_2(h + self.mlp(h))


def gpt2_post_norm():
    model = gpt2()
    for block in model.transformer.h:
        block.__class__ = PostNormGPT2Block
    return model


def encoder(batch_first=True):
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, 4, 64, dropout=0.0, batch_first=batch_first)
    return nn.TransformerEncoder(layer, 3, enable_nested_tensor=False).eval()


IDS = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(1))
X = torch.randn(B, T, D, generator=torch.Generator().manual_seed(1))
MODELS = {
    "gpt2-sdpa": (lambda: gpt2("sdpa"), {"input_ids": IDS}, True),
    "gpt2-eager": (lambda: gpt2("eager"), {"input_ids": IDS}, True),
    "llama": (llama, {"input_ids": IDS}, True),
    "encoder": (encoder, X, False),
    "encoder-seq-first": (lambda: encoder(False), X.transpose(0, 1), False),
}


def zero_queries(model):
    """W_Q (and its bias) = 0: every logit is 0."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("q_proj.weight", "q_proj.bias")):
                p.zero_()
            elif "c_attn" in name:  # GPT-2's Conv1D: q is the first third of the columns
                p[..., :D].zero_()
            elif "in_proj" in name:  # nn.MultiheadAttention: q is the first third of the rows
                p[:D].zero_()
    return model


def matrices(model, inputs):
    return [a["matrix"] for a in sigprop.probe(model, inputs, keep_attention=True).attention]


@pytest.mark.parametrize("name", list(MODELS))
def test_attention_fixes_keep_their_defining_property(name):
    make, inputs, causal = MODELS[name]
    base = make()
    for fix in ("shaped", "gap_removal", "value_skipinit"):
        fixed = sigprop.apply(zero_queries(make()) if fix == "shaped" else base, fix)
        result = sigprop.probe(fixed, inputs, keep_attention=True)
        for a in result.attention:
            assert a["source"] == f"sigprop.apply: {fix}"
            A = a["matrix"]
            eye = torch.eye(T, dtype=A.dtype)
            if fix in ("shaped", "value_skipinit"):  # I + softmax(0) − C = I; αI + 0·A = I
                assert (A - eye).abs().max().item() < 1e-6, fix
            else:
                assert A.sum(-1).abs().max().item() < 1e-6  # rows of A − C sum to 0
                assert A.abs().max().item() > 1e-3
            if causal:
                assert A.triu(1).abs().max().item() == 0.0
    for p, q in zip(base.parameters(), make().parameters()):  # apply copied: base untouched
        assert torch.equal(p, q)


class Capture(TorchFunctionMode):
    """The q handed to the attention: SDPA's first argument, or the left operand of a T×T
    logits product in eager code."""

    def __init__(self):
        super().__init__()
        self.q = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention:
            self.q.append((args[0], args[1]))
        elif func is torch.matmul and args[0].dim() == 4 and args[1].shape[-1] == T \
                and args[0].shape[-1] != T:
            self.q.append((args[0], args[1].transpose(-2, -1)))
        return func(*args, **kwargs)


@pytest.mark.parametrize("name", ["gpt2-sdpa", "gpt2-eager", "llama"])
def test_qk_norm_gives_unit_rms_queries_and_keys(name):
    make, inputs, _ = MODELS[name]
    fixed = sigprop.apply(make(), "qk_norm")
    with torch.no_grad(), Capture() as seen:
        fixed(**inputs)
    assert len(seen.q) == 3
    for q, k in seen.q:
        for t in (q, k):  # 1 up to eps = 1e-6 against GPT-2's small q (mean square ~1e-3)
            assert (t.pow(2).mean(-1) - 1).abs().max().item() < 2e-3
    names = [n for n, _ in fixed.named_parameters() if "sigprop" in n]
    assert len(names) == 6 and names[0].endswith("sigprop_qk_norm_q")


class AttentionOnly(nn.Module):
    """x + Attn(x) blocks and nothing else: block output − input is the attention branch."""

    def __init__(self, causal):
        super().__init__()
        torch.manual_seed(0)
        self.causal = causal
        self.blocks = nn.ModuleList([nn.MultiheadAttention(D, 4, batch_first=True)
                                     for _ in range(3)])

    def forward(self, x):
        mask = torch.ones(T, T, dtype=torch.bool).triu(1) if self.causal else None
        for blk in self.blocks:
            x = x + blk(x, x, x, attn_mask=mask, need_weights=False)[0]
        return x


class Residual(nn.Module):
    """One block of AttentionOnly as a module of its own (the unit sigprop.apply fixes)."""

    def __init__(self, attn, causal):
        super().__init__()
        self.attn, self.causal = attn, causal

    def forward(self, x):
        mask = torch.ones(T, T, dtype=torch.bool).triu(1) if self.causal else None
        return x + self.attn(x, x, x, attn_mask=mask, need_weights=False)[0]


def branch_pairs(model_fixed, model):
    """(branch of the fixed block, branch of the original block) for block 1 on X."""
    with torch.no_grad():
        return model_fixed(X) - X, model(X) - X


@pytest.mark.parametrize("causal", [False, True])
def test_branch_fixes_against_the_unfixed_branch(causal):
    model = nn.Sequential(*[Residual(nn.MultiheadAttention(D, 4, batch_first=True), causal)
                            for _ in range(3)]).eval()
    first = nn.Sequential(model[0])
    counts = torch.arange(1, T + 1, dtype=torch.float32).view(T, 1)
    for fix, options, expect in [
        ("scale_1/sqrt(L)", {}, lambda y: y / math.sqrt(3)),
        ("scale_1/L", {}, lambda y: y / 3),
        ("rezero", {}, lambda y: 0 * y),
        ("layerscale", {"init": 0.25}, lambda y: 0.25 * y),
        ("sandwich", {}, lambda y: F.layer_norm(y, (D,), eps=1e-5)),
        ("similarity_removal", {"tau": 0.5},
         lambda y: y - 0.5 * (y.cumsum(-2) / counts if causal else y.mean(-2, keepdim=True))),
    ]:
        fixed = sigprop.apply(model, fix, **options)
        got, plain = branch_pairs(nn.Sequential(fixed[0]), first)
        assert (got - expect(plain)).abs().max().item() < 1e-5, fix
    fixed = sigprop.apply(model, "similarity_removal", tau=1.0)
    got, _ = branch_pairs(nn.Sequential(fixed[0]), first)
    if not causal:  # (I − Π)Y: the branch's mean token is 0
        assert got.mean(-2).abs().max().item() < 1e-6
    else:  # (I − C)Y: the first position's branch is 0, and no position reads a later one
        assert got[:, 0].abs().max().item() < 1e-6


@pytest.mark.parametrize("name", ["gpt2-sdpa", "gpt2-eager", "llama", "gpt2-post-norm"])
def test_fixed_causal_models_stay_causal(name):
    make, inputs = (gpt2_post_norm, {"input_ids": IDS}) if name == "gpt2-post-norm" else MODELS[name][:2]
    other = inputs["input_ids"].clone()
    other[:, 8] = (other[:, 8] + 1) % V  # a change at position 8 must not reach positions < 8
    for fix in [f for f in sigprop.FIXES if f not in ("espa", "uspa")
                and (f != "deepnorm" or name == "gpt2-post-norm")]:
        fixed = sigprop.apply(make(), fix, inputs=inputs, **({"eta": 0.5} if fix == "tat" else {}))
        with torch.no_grad():
            for p in fixed.parameters():  # gains off their zero init, so every path is live
                if p.dim() == 0:
                    p.fill_(0.5)
            a, b = fixed(input_ids=inputs["input_ids"]).logits, fixed(input_ids=other).logits
        assert (a[:, :8] - b[:, :8]).abs().max().item() < 1e-5, fix
        assert (a[:, 8:] - b[:, 8:]).abs().max().item() > 1e-6, fix


@pytest.mark.parametrize("fix", ["shaped", "gap_removal", "value_skipinit", "qk_norm",
                                 "layerscale", "similarity_removal", "sandwich"])
def test_gradcheck_of_the_fixed_blocks_in_float64(fix):
    torch.manual_seed(0)  # GELU: finite differences across a ReLU's kink are not a gradient
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).double().eval()
    fixed = sigprop.apply(model, fix)
    x = torch.randn(2, 5, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: fixed(t), (x,))
    names = [n for n, _ in fixed.named_parameters() if "sigprop" in n]
    if names:  # and the fix's own parameters, through torch.func.functional_call
        values = tuple(fixed.get_parameter(n).detach().clone().requires_grad_(True) for n in names)
        fn = lambda *vs: torch.func.functional_call(fixed, dict(zip(names, vs)), (x.detach(),))
        assert torch.autograd.gradcheck(fn, values)


def entries_changed(before, after):
    """{parameter name: the distinct ratios after/before of its entries} of the 2-D parameters."""
    old = dict(before.named_parameters())
    return {n: sorted({round(r, 5) for r in (p / old[n]).flatten().tolist()})
            for n, p in after.named_parameters() if p.dim() == 2 and n in old}


def test_deepnorm_post_norm_blocks_against_the_paper_s_formula():
    """DeepNet's encoder/decoder-only rule: x ← LN(αx + f(x)), α = (2N)^¼, every matrix but W_Q
    and W_K times β = (8N)^−¼ (its reference code divides the initialised weights so)."""
    N = 3
    alpha, beta = (2 * N) ** 0.25, (8 * N) ** -0.25
    model = gpt2_post_norm()
    fixed = sigprop.apply(model, "deepnorm", inputs={"input_ids": IDS})
    ratios = entries_changed(model, fixed)
    for n, r in ratios.items():
        if n.endswith("c_attn.weight"):  # GPT-2's fused QKV: columns q | k | v
            old, new = dict(model.named_parameters())[n], dict(fixed.named_parameters())[n]
            assert torch.equal(new[:, :2 * D], old[:, :2 * D]), n
            assert torch.allclose(new[:, 2 * D:], beta * old[:, 2 * D:]), n
        elif ".h." in n:
            assert r == [round(beta, 5)], (n, r)
        else:
            assert r == [1.0], (n, r)  # embeddings are not the blocks'
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, 4, 64, dropout=0.0, batch_first=True, layer_norm_eps=1e-12)
    enc = nn.TransformerEncoder(layer, N, enable_nested_tensor=False).eval()
    fixed = sigprop.apply(enc, "deepnorm", inputs=X)
    ratios = entries_changed(enc, fixed)
    w, w0 = fixed.layers[0].self_attn.in_proj_weight, enc.layers[0].self_attn.in_proj_weight
    assert torch.equal(w[:2 * D], w0[:2 * D]) and torch.allclose(w[2 * D:], beta * w0[2 * D:])
    assert all(ratios[f"layers.1.{n}"] == [round(beta, 5)]
               for n in ("self_attn.out_proj.weight", "linear1.weight", "linear2.weight"))
    f = fixed.layers[0]  # the block against LN(αx + f(x)) written out, on its rescaled weights
    ln = lambda m, t: F.layer_norm(t, (D,), m.weight, m.bias, 1e-12)
    h = ln(f.norm1, alpha * X + f.self_attn(X, X, X, need_weights=False)[0])
    want = ln(f.norm2, alpha * h + f.linear2(F.relu(f.linear1(h))))
    assert (f(X) - want).abs().max().item() < 1e-5


def test_deepnorm_needs_a_post_norm_and_inputs():
    with pytest.raises(ValueError, match="pass inputs="):
        sigprop.apply(gpt2_post_norm(), "deepnorm")
    with pytest.raises(ValueError, match="deepnorm is for post-norm blocks.*block 1"):
        sigprop.apply(gpt2(), "deepnorm", inputs={"input_ids": IDS})
    with pytest.raises(ValueError, match="beta must be a positive number"):
        sigprop.apply(gpt2_post_norm(), "deepnorm", beta=-1.0, inputs={"input_ids": IDS})


@pytest.mark.parametrize("name", ["gpt2-sdpa", "llama", "encoder-seq-first"])
def test_gpt2_init_scales_the_matrix_that_writes_each_branch(name):
    make, inputs, _ = MODELS[name]
    model = make()
    fixed = sigprop.apply(model, "gpt2_init", inputs=inputs)
    last = ("attn.c_proj.weight", "mlp.c_proj.weight", "o_proj.weight", "down_proj.weight",
            "out_proj.weight", "linear2.weight")
    gain = round((2 * 3) ** -0.5, 5)
    for n, r in entries_changed(model, fixed).items():
        assert r == ([gain] if n.endswith(last) else [1.0]), (n, r)


def test_a_fixed_model_trains_saves_and_loads():
    torch.manual_seed(0)
    model = sigprop.apply(gpt2(), "layerscale")
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    ids = torch.randint(0, V, (4, T))
    losses = []
    for _ in range(30):
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
    gain = model.transformer.h[0].sigprop_layerscale_0
    assert not torch.allclose(gain, torch.full_like(gain, 0.1))  # the gains trained
    state = model.state_dict()
    assert "transformer.h.0.sigprop_layerscale_0" in state
    again = sigprop.apply(gpt2(), "layerscale")
    again.load_state_dict(state)
    model.eval(), again.eval()
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, again(input_ids=ids).logits)
    plain = gpt2()  # the original's checkpoint loads into the fixed model, gains at their init
    fresh = sigprop.apply(gpt2(), "layerscale")
    missing = fresh.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert sorted(missing) == sorted(n for n in fresh.state_dict() if "sigprop" in n)


def test_what_cannot_apply_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="unknown fix 'nope'.*shaped.*layerscale"):
        sigprop.apply(gpt2(), "nope")
    with pytest.raises(ValueError, match="'espa' cannot be applied.*skipless"):
        sigprop.apply(gpt2(), "espa")
    with pytest.raises(ValueError, match="has no option tau.*init"):
        sigprop.apply(gpt2(), "layerscale", tau=1)
    once = sigprop.apply(gpt2(), "rezero")
    with pytest.raises(ValueError, match="already has 'rezero'"):
        sigprop.apply(once, "rezero")

    class MLPOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Sequential(nn.Linear(D, D), nn.ReLU()) for _ in range(3)])

        def forward(self, x):
            for l in self.layers:
                x = l(x)
            return x

    fixed = sigprop.apply(MLPOnly(), "shaped", width=D)
    with pytest.raises(ValueError, match="shaped in block 1 .*no attention computation"):
        fixed(X)
    fixed = sigprop.apply(MLPOnly(), "rezero")
    with pytest.raises(ValueError, match="rezero in block 1 .*no branch joining the residual"):
        fixed(X)


def test_fixes_compose_and_pickle():
    model = sigprop.apply(sigprop.apply(gpt2(), "qk_norm"), "layerscale")
    block = model.transformer.h[0]
    assert type(block).__name__ == "FixedGPT2Block" and isinstance(block, transformers.models.gpt2.modeling_gpt2.GPT2Block)
    assert [f.name for f in block._sigprop_fixes] == ["qk_norm", "layerscale"]
    import io
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    with torch.no_grad():
        assert torch.equal(loaded(input_ids=IDS).logits, model(input_ids=IDS).logits)


def test_tat_replaces_the_mlp_nonlinearity_with_the_library_s_slope():
    model = gpt2()
    fixed = sigprop.apply(model, "tat", eta=0.5, init="keep")  # 3 blocks: η = 0.9 is out of reach
    act = fixed.transformer.h[0].mlp.act
    assert type(act).__name__ == "TATActivation"
    assert act.alpha == sigprop.tat.slope(0.5, 3)
    x = torch.randn(1000, dtype=torch.float64)
    assert torch.equal(act(x), sigprop.nn.TATLeakyReLU(0.5, depth=3).double()(x))
    with torch.no_grad():  # the fix reaches the output, and the model keeps working
        assert not torch.allclose(fixed(input_ids=IDS).logits, model(input_ids=IDS).logits)
    with pytest.raises(ValueError, match="tat eta=0.9 over the model's 3 blocks.*unreachable"):
        sigprop.apply(model, "tat", init="keep")
    with pytest.raises(ValueError, match="tat needs the MLP's nonlinearity as a module.*activation=nn.ReLU"):
        sigprop.apply(encoder(), "tat", eta=0.3, init="keep")
    relu = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, 4, 64, activation=nn.ReLU(),
                                                            batch_first=True), 3,
                                 enable_nested_tensor=False)
    assert type(sigprop.apply(relu, "tat", eta=0.3, init="keep").layers[0].activation).__name__ == "TATActivation"
    with pytest.raises(ValueError, match="pass inputs=.*or init='keep'"):
        sigprop.apply(relu, "tat", eta=0.3)
    with pytest.raises(ValueError, match="tat init must be 'orthogonal'.*or 'keep'.*not 'suo'"):
        sigprop.apply(relu, "tat", eta=0.3, init="suo")


def relu_encoder(batch_first=True):
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, 4, 64, dropout=0.0, activation=nn.ReLU(),
                                       batch_first=batch_first)
    return nn.TransformerEncoder(layer, 3, enable_nested_tensor=False).eval()


@pytest.mark.parametrize("name", ["gpt2-sdpa", "llama", "encoder-seq-first"])
def test_tat_draws_the_mlp_scaled_orthogonal_with_zero_biases(name):
    """TAT's pairing (Zhang et al. 2022; DKS's SUO): every MLP matrix W (fan_out × fan_in) with
    WᵀW = (out/in)·I when it widens and WWᵀ = I when it narrows, the MLP's biases 0, and nothing
    else of the model changed."""
    make, inputs, _ = MODELS[name]
    if name == "encoder-seq-first":
        make = lambda: relu_encoder(False)
    model = make()
    fixed = sigprop.apply(model, "tat", eta=0.5, inputs=inputs)
    mlp = {"gpt2-sdpa": ("mlp.c_fc", "mlp.c_proj"), "llama": ("gate_proj", "up_proj", "down_proj"),
           "encoder-seq-first": ("linear1", "linear2")}[name]
    drawn = [n for n, _ in fixed.named_modules() if n.endswith(mlp)]
    assert len(drawn) == 3 * len(mlp)
    for n in drawn:
        m = fixed.get_submodule(n)
        w = (m.weight.t() if name == "gpt2-sdpa" else m.weight).double()  # (out, in)
        out, inp = w.shape
        gram = w.t() @ w if out >= inp else w @ w.t()
        assert torch.allclose(gram, max(1.0, out / inp) * torch.eye(min(out, inp), dtype=w.dtype),
                              atol=1e-5), n
        assert m.bias is None or not m.bias.any(), n
    old = dict(model.named_parameters())
    for n, p in fixed.named_parameters():
        if not n.rsplit(".", 1)[0].endswith(mlp):
            assert torch.equal(p, old[n]), n  # attention, norms, embeddings: as they were
    with torch.no_grad():
        logits = fixed(inputs) if not isinstance(inputs, dict) else fixed(**inputs).logits
    assert torch.isfinite(logits).all()


class Parallel(nn.Module):
    """GPT-J/NeoX's parallel block, x + (attn(h) + mlp(h)): one branch joins the stream."""

    def __init__(self, functional=False):
        super().__init__()
        self.norm, self.attn = nn.LayerNorm(D), nn.MultiheadAttention(D, 4, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))
        self.functional = functional

    def forward(self, x):
        h = self.norm(x)
        m = self.mlp[2](F.gelu(self.mlp[0](h))) if self.functional else self.mlp(h)
        return x + (self.attn(h, h, h, need_weights=False)[0] + m)


def test_tat_init_tells_the_mlp_from_the_attention_by_what_they_compute():
    torch.manual_seed(0)
    model = nn.Sequential(*[Parallel() for _ in range(3)])
    fixed = sigprop.apply(model, "tat", eta=0.5, inputs=X)
    old = dict(model.named_parameters())
    changed = sorted(n for n, p in fixed.named_parameters() if not torch.equal(p, old[n]))
    assert changed == sorted(f"{i}.mlp.{j}.{p}" for i in range(3) for j in (0, 2)
                             for p in ("weight", "bias"))
    functional = nn.Sequential(*[Parallel(True) for _ in range(3)])
    before = {n: p.clone() for n, p in functional.state_dict().items()}
    with pytest.raises(ValueError, match="block 1 \\(Parallel\\) ran no activation it replaced.*"
                                         "init='keep'"):  # an nn.GELU held, F.gelu called
        sigprop.apply(functional, "tat", eta=0.5, inputs=X, inplace=True)
    # the refusal left the user's model as it was: its classes, modules and weights
    assert all(type(b) is Parallel and type(b.mlp[1]) is nn.GELU for b in functional)
    assert not any(k.startswith("_sigprop") for b in functional.modules() for k in vars(b))
    after = functional.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(after[n], before[n]) for n in before)


def test_families_the_first_sweep_broke_on():
    """Found by applying every fix to every family of scripts/probe_models.py: Qwen3's QK-norm
    weights (head-sized) taken for the stream's width; Gemma 2's GELUTanh not seen as an
    activation; a fully padded BERT sequence making shaped attention NaN."""
    torch.manual_seed(0)
    qwen = transformers.Qwen3ForCausalLM(transformers.Qwen3Config(
        hidden_size=D, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, vocab_size=V, max_position_embeddings=T)).eval()
    fixed = sigprop.apply(qwen, "layerscale")
    assert fixed.model.layers[0].sigprop_layerscale_0.shape == (D,)
    with torch.no_grad():
        fixed(input_ids=IDS)
    gemma = transformers.Gemma2ForCausalLM(transformers.Gemma2Config(
        hidden_size=D, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, vocab_size=V, max_position_embeddings=T))
    assert type(sigprop.apply(gemma, "tat", eta=0.2, init="keep").model.layers[0].mlp.act_fn).__name__ == "TATActivation"
    bert = transformers.BertModel._from_config(transformers.BertConfig(
        hidden_size=D, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        vocab_size=V), attn_implementation="sdpa").eval()
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1] = 0  # the second sequence is all padding
    result = sigprop.probe(sigprop.apply(bert, "shaped"), {"input_ids": IDS, "attention_mask": mask})
    assert all(math.isfinite(r["cosine"]) for r in result.rows)
