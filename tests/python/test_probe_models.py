"""sigprop.probe of the models people train, with no hints: transformers' GPT-2, GPT-NeoX
(interleaved fused qkv), LLaMA (grouped-query), Mistral (sliding window), Qwen3 (QK-norm),
Gemma 2 (logit soft-capping), BERT (padding mask) and ViT; timm's ViT; a nanoGPT-style GPT on
F.scaled_dot_product_attention; Meta's LLaMA reference code (RoPE, mask passed to each block,
GQA); PyTorch's nn.TransformerEncoder. Each built from its configuration with random weights
(nothing downloaded). For every block, against numbers computed here without sigprop:
- A equals the model's own (transformers' output_attentions under the eager implementation, or
  the test's own computation) to 1e-5, heads and padding included;
- grad_q/k/v/o equal the autograd norms of the weights (or the rows/columns of them) they name,
  to a relative 1e-5;
- cosine and t_sim equal their textbook forms on the model's own hidden states;
- the model is left as it was (weights, grads, modes, attention implementation, hooks);
and the same under the sdpa implementation, where the model has one."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import sigprop

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

B, T, V = 2, 16, 100


def small(name):
    """A 4-block model of family `name`, its inputs, and per block the weights that are W_Q,
    W_K, W_V, W_O: (parameter, index into it) — rows of a Linear, columns of a Conv1D."""
    tf = transformers
    lm = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=8,
              num_key_value_heads=2, vocab_size=V, max_position_embeddings=64)
    ids = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(1))
    inputs = {"input_ids": ids}
    if name == "gpt2":
        cfg, cls = tf.GPT2Config(n_embd=64, n_layer=4, n_head=4, vocab_size=V, n_positions=64), \
            tf.GPT2LMHeadModel
    elif name == "gpt-neox":
        cfg, cls = tf.GPTNeoXConfig(hidden_size=64, num_hidden_layers=4, num_attention_heads=4,
                                    intermediate_size=128, vocab_size=V), tf.GPTNeoXForCausalLM
    elif name == "llama":
        cfg, cls = tf.LlamaConfig(**lm), tf.LlamaForCausalLM
    elif name == "mistral":
        cfg, cls = tf.MistralConfig(**lm, sliding_window=6), tf.MistralForCausalLM
    elif name == "qwen3":
        cfg, cls = tf.Qwen3Config(**lm, head_dim=16), tf.Qwen3ForCausalLM
    elif name == "gemma2":
        cfg, cls = tf.Gemma2Config(**lm, head_dim=16, sliding_window=6,
                                   attn_logit_softcapping=5.0), tf.Gemma2ForCausalLM
    elif name == "bert":
        cfg, cls = tf.BertConfig(hidden_size=64, num_hidden_layers=4, num_attention_heads=4,
                                 intermediate_size=128, vocab_size=V), tf.BertModel
        mask = torch.ones(B, T, dtype=torch.long)
        mask[1, -5:] = 0  # the second sequence is padded
        inputs["attention_mask"] = mask
    elif name == "vit":
        cfg, cls = tf.ViTConfig(hidden_size=64, num_hidden_layers=4, num_attention_heads=4,
                                intermediate_size=128, image_size=32, patch_size=8), tf.ViTModel
        inputs = {"pixel_values": torch.randn(B, 3, 32, 32, generator=torch.Generator().manual_seed(1))}
    torch.manual_seed(0)
    model = cls._from_config(cfg, attn_implementation="eager")
    return model, inputs


def named_weights(name, model, l):
    """W_Q, W_K, W_V, W_O of block l as the family's own code names them."""
    d = 64
    if name == "gpt2":
        a = model.transformer.h[l].attn
        return {"q": (a.c_attn.weight, (slice(None), slice(0, d))),
                "k": (a.c_attn.weight, (slice(None), slice(d, 2 * d))),
                "v": (a.c_attn.weight, (slice(None), slice(2 * d, 3 * d))),
                "o": (a.c_proj.weight, None)}
    if name == "gpt-neox":
        a = model.gpt_neox.layers[l].attention
        rows = torch.arange(3 * d).view(4, 3, 16)  # per head [q | k | v], interleaved
        return {n: (a.query_key_value.weight, rows[:, i].reshape(-1)) for i, n in enumerate("qkv")} \
            | {"o": (a.dense.weight, None)}
    if name == "bert":
        layer = model.encoder.layer[l]
        s = layer.attention.self
        return {"q": (s.query.weight, None), "k": (s.key.weight, None),
                "v": (s.value.weight, None), "o": (layer.attention.output.dense.weight, None)}
    a = model.layers[l].attention if name == "vit" else model.model.layers[l].self_attn
    return {"q": (a.q_proj.weight, None), "k": (a.k_proj.weight, None),
            "v": (a.v_proj.weight, None), "o": (a.o_proj.weight, None)}


def output_tensor(out):
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, tuple):
        return output_tensor(out[0])
    return out.logits if getattr(out, "logits", None) is not None else out.last_hidden_state


def reference_gradients(model, inputs):
    """The probe's default loss, 0.5·mean((y − G)²) with G ~ N(0, 1) drawn from seed 0, by
    autograd here; the parameters' gradients, the model's grads left as they were (None)."""
    model.eval()
    y = output_tensor(model(**inputs) if isinstance(inputs, dict) else model(*inputs))
    target = torch.randn(y.shape, generator=torch.Generator().manual_seed(0), dtype=y.dtype)
    (0.5 * (y - target).pow(2).mean()).backward()
    grads = {id(p): p.grad.clone() for p in model.parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return grads


def norm_of(grads, p, index):
    g = grads[id(p)]
    return (g if index is None else g[index]).double().norm().item()


def textbook(x):
    """Mean off-diagonal token cosine and t_sim = |mean token|² / mean |token|², per sequence."""
    x = x.double()
    u = F.normalize(x, dim=-1)
    c = u @ u.transpose(-2, -1)
    n = x.shape[1]
    cosine = ((c.sum((-2, -1)) - c.diagonal(0, -2, -1).sum(-1)) / (n * (n - 1))).mean().item()
    t_sim = (x.mean(1).pow(2).sum(-1) / x.pow(2).sum(-1).mean(-1)).mean().item()
    return cosine, t_sim


def close(a, b, rel=1e-5):
    return abs(a - b) <= rel * abs(b) + 1e-12


def hooks(model):
    return [(list(m._forward_hooks), list(m._forward_pre_hooks), list(m._backward_hooks),
             "forward" in m.__dict__) for m in model.modules()]


def state(model):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            [m.training for m in model.modules()], [p.grad for p in model.parameters()],
            hooks(model))


def assert_left_as_it_was(model, before, implementation=None):
    weights, modes, grads, hooked = before
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert [m.training for m in model.modules()] == modes
    assert all(g is None for g in grads) and all(p.grad is None for p in model.parameters())
    assert hooks(model) == hooked  # the model's own hooks (transformers has some), no more
    assert not torch._C._is_torch_function_mode_enabled()
    if implementation is not None:
        assert model.config._attn_implementation == implementation


def check_gradients(result, expected):
    for l, names in enumerate(expected):
        row = result.rows[l + 1]
        for n, value in names.items():
            assert close(row[f"grad_{n}"], value), (l + 1, n, row[f"grad_{n}"], value)


def probed_then_run(model, args, source):
    """The probe's result, every block's A taken from `source`; then one eval forward without
    gradients, after which the test's own modules hold their A (or q and k) to compare with."""
    result = sigprop.probe(model, args, keep_attention=True)
    assert all(a["source"] == source for a in result.attention), result.attention
    model.eval()
    with torch.no_grad():
        model(*args)
    return result


FAMILIES = ["gpt2", "gpt-neox", "llama", "mistral", "qwen3", "gemma2", "bert", "vit"]


@pytest.mark.parametrize("name", FAMILIES)
def test_transformers_models_against_their_own_attention(name):
    model, inputs = small(name)
    model.train()
    before = state(model)
    result = sigprop.probe(model, inputs, keep_attention=True)
    assert_left_as_it_was(model, before, "eager")
    assert len(result.rows) == 5
    assert all(a["source"] == "softmax" for a in result.attention), result.attention

    model.eval()
    with torch.no_grad():
        out = model(**inputs, output_attentions=True, output_hidden_states=True)
    model.train()
    for l, (mine, theirs) in enumerate(zip(result.attention, out.attentions)):
        assert mine["matrix"].shape == theirs.shape
        assert (mine["matrix"] - theirs.double()).abs().max().item() < 1e-5, l
    if name == "bert":  # the padded keys of the second sequence get no attention, in every head
        assert result.attention[0]["matrix"][1, :, :, -5:].abs().max().item() == 0.0
    if name == "mistral":  # the sliding window: nothing further back than 6 tokens
        assert result.attention[2]["matrix"][..., 10, :4].abs().max().item() == 0.0
    # hidden_states[l] is block l+1's input (the last one has the final norm applied in some
    # families, so it is not a block's output)
    for l in range(4):
        cosine, t_sim = textbook(out.hidden_states[l])
        assert abs(result.rows[l]["cosine"] - cosine) < 1e-6
        assert abs(result.rows[l]["t_sim"] - t_sim) < 1e-6

    grads = reference_gradients(model, inputs)
    expected = [{n: norm_of(grads, *w) for n, w in named_weights(name, model, l).items()}
                for l in range(4)]
    check_gradients(result, expected)
    entropies = [r["attn_entropy"] for r in result.rows[1:]]
    for l, a in enumerate(out.attentions):  # the entropy column is the model's own A's
        a = a.double()
        h = -(a * a.clamp_min(1e-300).log()).sum(-1).mean().item()
        assert abs(entropies[l] - h) < 1e-6

    if name in ("gemma2",):
        return  # transformers builds Gemma 2 with eager attention only
    model.set_attn_implementation("sdpa")
    before = state(model)
    sdpa = sigprop.probe(model, inputs, keep_attention=True)
    assert_left_as_it_was(model, before, "sdpa")
    assert all(a["source"] == "scaled_dot_product_attention" for a in sdpa.attention)
    for mine, eager in zip(sdpa.attention, result.attention):
        assert (mine["matrix"] - eager["matrix"]).abs().max().item() < 1e-5
    check_gradients(sdpa, expected)
    for r, e in zip(sdpa.rows, result.rows):
        for c in ("cosine", "t_sim", "attn_entropy", "attn_lambda2"):
            assert math.isnan(e[c]) or abs(r[c] - e[c]) < 1e-5, c


def test_gqa_weights_are_smaller_and_named():
    model, inputs = small("llama")
    a = model.model.layers[0].self_attn
    assert a.k_proj.weight.shape[0] == a.q_proj.weight.shape[0] // 4  # 8 query, 2 key/value heads
    result = sigprop.probe(model, inputs, keep_attention=True)
    assert result.attention[0]["matrix"].shape == (B, 8, T, T)
    assert all(math.isfinite(r["grad_k"]) and r["grad_k"] > 0 for r in result.rows[1:])


def test_timm_vit_fused_and_eager():
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8,
                              depth=4, num_classes=10)
    x = torch.randn(B, 3, 32, 32)
    before = state(model)
    fused = sigprop.probe(model, x, keep_attention=True)
    assert_left_as_it_was(model, before)
    assert fused.blocks == "blocks"
    assert all(a["source"] == "scaled_dot_product_attention" for a in fused.attention)
    # the test's own A: timm's eager path, read at the input of attn_drop
    seen = []
    handles = [b.attn.attn_drop.register_forward_hook(lambda m, i, o: seen.append(i[0].detach()))
               for b in model.blocks]
    for b in model.blocks:
        b.attn.fused_attn = False
    model.eval()
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    for mine, theirs in zip(fused.attention, seen):
        assert (mine["matrix"] - theirs.double()).abs().max().item() < 1e-5
    row = fused.rows[1]["attn_sigma1"]
    assert math.isfinite(row) and abs(row - 1.0) < 0.5  # bidirectional: not taken as causal
    assert not any(torch.equal(a["matrix"][0, 0].triu(1), torch.zeros(T, T)) for a in fused.attention)
    eager = sigprop.probe(model, x)
    assert all(a["source"] == "softmax" for a in eager.attention)
    grads = reference_gradients(model, (x,))
    d = 192
    for l, b in enumerate(model.blocks):
        for i, n in enumerate("qkv"):
            w = norm_of(grads, b.attn.qkv.weight, slice(i * d, (i + 1) * d))
            assert close(fused.rows[l + 1][f"grad_{n}"], w) and close(eager.rows[l + 1][f"grad_{n}"], w)
        assert close(fused.rows[l + 1]["grad_o"], norm_of(grads, b.attn.proj.weight, None))
        mlp = math.hypot(norm_of(grads, b.mlp.fc1.weight, None), norm_of(grads, b.mlp.fc2.weight, None))
        assert close(fused.rows[l + 1]["grad_mlp"], mlp)


class SDPASelfAttention(nn.Module):
    """nanoGPT's CausalSelfAttention on its flash path (F.scaled_dot_product_attention)."""

    def __init__(self, d, n_head):
        super().__init__()
        self.c_attn, self.c_proj, self.n_head = nn.Linear(d, 3 * d), nn.Linear(d, d), n_head

    def forward(self, x):
        Bx, Tx, C = x.size()
        q, k, v = (t.view(Bx, Tx, self.n_head, C // self.n_head).transpose(1, 2)
                   for t in self.c_attn(x).split(C, dim=2))
        self.last = (q.detach(), k.detach())
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(Bx, Tx, C))


class NanoBlock(nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(d), SDPASelfAttention(d, n_head)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


def test_nanogpt_on_sdpa_is_causal():
    torch.manual_seed(0)
    emb = nn.Embedding(V, 64)
    model = nn.Sequential(emb, *[NanoBlock(64, 4) for _ in range(4)], nn.LayerNorm(64),
                          nn.Linear(64, V))
    ids = torch.randint(0, V, (B, T))
    result = probed_then_run(model, (ids,), "scaled_dot_product_attention")
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    for l, a in enumerate(result.attention):
        q, k = (t.double() for t in model[l + 1].attn.last)
        own = torch.softmax((q @ k.transpose(-2, -1) / 4.0).masked_fill(~causal, float("-inf")), -1)
        assert (a["matrix"] - own).abs().max().item() < 1e-5
    grads = reference_gradients(model, (ids,))
    for l in range(4):
        w = model[l + 1].attn.c_attn.weight
        for i, n in enumerate("qkv"):
            assert close(result.rows[l + 1][f"grad_{n}"], norm_of(grads, w, slice(64 * i, 64 * (i + 1))))


class MetaAttention(nn.Module):
    """Meta's llama/model.py Attention, trimmed: wq/wk/wv/wo, complex RoPE, repeat_kv, the
    causal mask passed in by the caller, softmax in float32."""

    def __init__(self, d, n_heads, n_kv_heads):
        super().__init__()
        self.n_heads, self.n_kv, self.hd = n_heads, n_kv_heads, d // n_heads
        self.wq = nn.Linear(d, n_heads * self.hd, bias=False)
        self.wk = nn.Linear(d, n_kv_heads * self.hd, bias=False)
        self.wv = nn.Linear(d, n_kv_heads * self.hd, bias=False)
        self.wo = nn.Linear(n_heads * self.hd, d, bias=False)

    def forward(self, x, freqs_cis, mask):
        bsz, seqlen, _ = x.shape
        xq = self.wq(x).view(bsz, seqlen, self.n_heads, self.hd)
        xk = self.wk(x).view(bsz, seqlen, self.n_kv, self.hd)
        xv = self.wv(x).view(bsz, seqlen, self.n_kv, self.hd)
        xq_ = torch.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
        xk_ = torch.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
        f = freqs_cis.view(1, seqlen, 1, -1)
        xq = torch.view_as_real(xq_ * f).flatten(3)
        xk = torch.view_as_real(xk_ * f).flatten(3)
        rep = self.n_heads // self.n_kv
        keys = xk.repeat_interleave(rep, dim=2).transpose(1, 2)
        values = xv.repeat_interleave(rep, dim=2).transpose(1, 2)
        xq = xq.transpose(1, 2)
        scores = torch.matmul(xq, keys.transpose(2, 3)) / math.sqrt(self.hd)
        scores = scores + mask
        scores = F.softmax(scores.float(), dim=-1).type_as(xq)
        self.last = scores.detach()
        out = torch.matmul(scores, values).transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.wo(out)


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight


class MetaBlock(nn.Module):
    def __init__(self, d, n_heads, n_kv):
        super().__init__()
        self.attention, self.attention_norm = MetaAttention(d, n_heads, n_kv), RMSNorm(d)
        self.w1, self.w2, self.w3 = nn.Linear(d, 128, bias=False), nn.Linear(128, d, bias=False), \
            nn.Linear(d, 128, bias=False)
        self.ffn_norm = RMSNorm(d)

    def forward(self, x, freqs_cis, mask):
        h = x + self.attention(self.attention_norm(x), freqs_cis, mask)
        y = self.ffn_norm(h)
        return h + self.w2(F.silu(self.w1(y)) * self.w3(y))


class MetaLlama(nn.Module):
    def __init__(self, d=64, n_layers=4, n_heads=8, n_kv=2):
        super().__init__()
        self.tok_embeddings = nn.Embedding(V, d)
        self.layers = nn.ModuleList([MetaBlock(d, n_heads, n_kv) for _ in range(n_layers)])
        self.norm, self.output = RMSNorm(d), nn.Linear(d, V, bias=False)
        freqs = 1.0 / (10000.0 ** (torch.arange(0, d // n_heads, 2).float() / (d // n_heads)))
        self.freqs_cis = torch.polar(torch.ones(64, freqs.numel()), torch.outer(torch.arange(64).float(), freqs))

    def forward(self, tokens):
        seqlen = tokens.shape[1]
        h = self.tok_embeddings(tokens)
        mask = torch.full((seqlen, seqlen), float("-inf")).triu(1)
        for layer in self.layers:
            h = layer(h, self.freqs_cis[:seqlen], mask)
        return self.output(self.norm(h))


def test_meta_llama_reference_code_with_rope_mask_and_gqa():
    """The issue's own report: rebuilt from wq/wk the probe saw a bidirectional, unrotated A
    (block 1 entropy 0.474 where the model's is 0.306). Taken where computed, it is the model's."""
    torch.manual_seed(0)
    model = MetaLlama()
    ids = torch.randint(0, V, (B, T))
    result = probed_then_run(model, (ids,), "softmax")
    for l, a in enumerate(result.attention):
        own = model.layers[l].attention.last.double()
        assert (a["matrix"] - own).abs().max().item() < 1e-5
        h = -(own * own.clamp_min(1e-300).log()).sum(-1).mean().item()
        assert abs(result.rows[l + 1]["attn_entropy"] - h) < 1e-6
    grads = reference_gradients(model, (ids,))
    for l, layer in enumerate(model.layers):
        a = layer.attention
        for n, w in (("q", a.wq), ("k", a.wk), ("v", a.wv), ("o", a.wo)):
            assert close(result.rows[l + 1][f"grad_{n}"], norm_of(grads, w.weight, None)), (l, n)
        mlp = math.sqrt(sum(norm_of(grads, w.weight, None) ** 2 for w in (layer.w1, layer.w2, layer.w3)))
        assert close(result.rows[l + 1]["grad_mlp"], mlp)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_weights_are_pytorch_s(norm_first):
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.1, norm_first=norm_first,
                                       batch_first=True)
    model = nn.TransformerEncoder(layer, 4, enable_nested_tensor=True)
    x = torch.randn(B, T, 64)
    padding = torch.zeros(B, T, dtype=torch.bool)
    padding[1, -4:] = True
    before = state(model)
    result = sigprop.probe(model, (x, None, padding), keep_attention=True)
    assert_left_as_it_was(model, before)
    assert all(a["source"] == "nn.MultiheadAttention" for a in result.attention)
    # the test's own A: each layer's self_attn asked for its per-head weights on its own input
    inputs = []
    handles = [l.self_attn.register_forward_pre_hook(
        lambda m, a, kw: inputs.append(a[0] if a else kw["query"]), with_kwargs=True)
        for l in model.layers]
    model.eval()
    with torch.enable_grad():  # PyTorch's fast path off, so the layers' hooks see their inputs
        model(x, src_key_padding_mask=padding)
    with torch.no_grad():
        for h in handles:
            h.remove()
        for l, (q, a) in enumerate(zip(inputs, result.attention)):
            own = model.layers[l].self_attn(q, q, q, key_padding_mask=padding, need_weights=True,
                                            average_attn_weights=False)[1]
            assert (a["matrix"] - own.double()).abs().max().item() < 1e-5
            assert a["matrix"][1, :, :, -4:].abs().max().item() == 0.0
    model.train()
    grads = reference_gradients(model, (x, None, padding))
    for l, layer in enumerate(model.layers):
        w = layer.self_attn.in_proj_weight
        for i, n in enumerate("qkv"):
            assert close(result.rows[l + 1][f"grad_{n}"], norm_of(grads, w, slice(64 * i, 64 * (i + 1))))
        assert close(result.rows[l + 1]["grad_o"], norm_of(grads, layer.self_attn.out_proj.weight, None))


def test_keyword_inputs_and_blocks_called_with_keywords():
    class KwBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = SDPASelfAttention(32, 2)

        def forward(self, *, hidden_states, scale=1.0):
            return (hidden_states + scale * self.attn(hidden_states),)

    class KwModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([KwBlock() for _ in range(3)])

        def forward(self, embeds, *, gain=None):
            for b in self.blocks:
                embeds = b(hidden_states=embeds, scale=gain)[0]
            return {"last_hidden_state": embeds}

    torch.manual_seed(0)
    x = torch.randn(B, T, 32)
    result = sigprop.probe(KwModel(), {"embeds": x, "gain": 0.5})
    assert len(result.rows) == 4
    assert all(a["source"] == "scaled_dot_product_attention" for a in result.attention)
    assert all(math.isfinite(r["grad_q"]) for r in result.rows[1:])
    with pytest.raises(TypeError, match="inputs must be a tensor, a tuple.*or a dict"):
        sigprop.probe(KwModel(), [x])


def test_decoder_probes_self_attention_not_cross_attention():
    torch.manual_seed(0)
    layer = nn.TransformerDecoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
    model = nn.TransformerDecoder(layer, 3)
    tgt, memory = torch.randn(B, T, 32), torch.randn(B, 10, 32)  # cross-attention is T x 10
    result = sigprop.probe(model, (tgt, memory), keep_attention=True)
    for a in result.attention:
        assert a["source"] == "nn.MultiheadAttention" and "first of 2" in a["detail"]
        assert a["matrix"].shape == (B, 4, T, T)
    inputs = []
    hs = [l.register_forward_pre_hook(lambda m, a: inputs.append(a[0])) for l in model.layers]
    model.eval()
    with torch.enable_grad():
        model(tgt, memory)
    for h in hs:
        h.remove()
    grads = reference_gradients(model, (tgt, memory))
    with torch.no_grad():
        for l, (x, a) in enumerate(zip(inputs, result.attention)):
            own = model.layers[l].self_attn(x, x, x, need_weights=True, average_attn_weights=False)[1]
            assert (a["matrix"] - own.double()).abs().max().item() < 1e-5
            w = model.layers[l].self_attn.in_proj_weight
            assert close(result.rows[l + 1]["grad_q"], norm_of(grads, w, slice(0, 32)))


class HiddenKernelAttention(nn.Module):
    """Attention inside one opaque ATen kernel the probe cannot look into."""

    def __init__(self, d, heads, names):
        super().__init__()
        self.heads = heads
        for n in names:
            setattr(self, n, nn.Linear(d, d))
        self.names = names

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (getattr(self, n)(x).view(b, t, self.heads, -1).transpose(1, 2)
                   for n in self.names[:3])
        y = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v)[0]
        return getattr(self, self.names[3])(y.transpose(1, 2).reshape(b, t, d))


@pytest.mark.parametrize("names,source", [(("a", "b", "c", "e"), "none"),
                                          (("q_proj", "k_proj", "v_proj", "o_proj"), "rebuilt")])
def test_a_kernel_that_hides_A_is_said_never_guessed_silently(names, source):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([HiddenKernelAttention(32, 4, names) for _ in range(3)])

        def forward(self, x):
            for layer in self.layers:
                x = x + layer(x)
            return x

    torch.manual_seed(0)
    result = sigprop.probe(Net(), torch.randn(B, T, 32))
    assert [a["source"] for a in result.attention] == [source] * 3
    assert "not the model's own" in repr(result)
    if source == "none":
        assert all(math.isnan(r["attn_entropy"]) and math.isnan(r["grad_q"]) for r in result.rows[1:])
    else:
        assert "not necessarily the model's" in result.attention[0]["detail"]
        assert all(math.isfinite(r["attn_entropy"]) and math.isfinite(r["grad_q"])
                   for r in result.rows[1:])
    assert all(math.isfinite(r["cosine"]) for r in result.rows)


class EinsumAlibiAttention(nn.Module):
    """BLOOM's way: logits = ALiBi bias + α·q kᵀ by baddbmm on (B·H, T, d_h), softmax in a
    separate call, A·v by einsum; the probe must find q, k and v through both."""

    def __init__(self, d, heads):
        super().__init__()
        self.h = heads
        self.query_key_value, self.dense = nn.Linear(d, 3 * d), nn.Linear(d, d)
        slopes = 2.0 ** (-8.0 * torch.arange(1, heads + 1) / heads)
        self.register_buffer("slopes", slopes)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.query_key_value(x).view(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        alibi = (self.slopes.view(1, self.h, 1, 1) * torch.arange(t).view(1, 1, 1, t)).expand(b, -1, t, -1)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        logits = torch.baddbmm(alibi.reshape(b * self.h, t, t), q.reshape(b * self.h, t, -1),
                               k.reshape(b * self.h, t, -1).transpose(1, 2), beta=1.0,
                               alpha=(d // self.h) ** -0.5)
        a = F.softmax(logits.view(b, self.h, t, t).masked_fill(causal, float("-inf")), dim=-1)
        self.last = a.detach()
        y = torch.einsum("bhij,bhjd->bhid", a, v)
        return self.dense(y.transpose(1, 2).reshape(b, t, d))


def test_baddbmm_logits_with_alibi_and_einsum_values():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = nn.ModuleList([EinsumAlibiAttention(32, 4) for _ in range(3)])

        def forward(self, x):
            for blk in self.h:
                x = x + blk(x)
            return x

    torch.manual_seed(0)
    net, x = Net(), torch.randn(B, T, 32)
    result = probed_then_run(net, (x,), "softmax")
    grads = reference_gradients(net, (x,))
    rows = torch.arange(96)
    for l, blk in enumerate(net.h):
        assert (result.attention[l]["matrix"] - blk.last.double()).abs().max().item() < 1e-5
        for i, n in enumerate("qkv"):  # view(b, t, 3, h, d_h): q, k, v are the row thirds
            assert close(result.rows[l + 1][f"grad_{n}"],
                         norm_of(grads, blk.query_key_value.weight, rows[32 * i:32 * (i + 1)]))
        assert close(result.rows[l + 1]["grad_o"], norm_of(grads, blk.dense.weight, None))


def test_a_registered_transformers_attention_function_is_read_from_its_arguments():
    """An attention function registered with transformers' AttentionInterface whose insides the
    probe cannot see (an opaque ATen kernel, as flash-attention would be): A is recomputed from
    the q, k, mask and scaling transformers hands it, and equals the eager model's."""
    from transformers import AttentionInterface

    def opaque(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        rep = query.shape[1] // key.shape[1]
        k, v = key.repeat_interleave(rep, 1), value.repeat_interleave(rep, 1)
        out = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
            query, k, v, is_causal=True, scale=scaling)[0]
        return out.transpose(1, 2).contiguous(), None

    AttentionInterface.register("sigprop_test_opaque", opaque)
    model, inputs = small("llama")
    model.eval()
    with torch.no_grad():
        eager = model(**inputs, output_attentions=True).attentions
    expected_grads = reference_gradients(model, inputs)
    model.set_attn_implementation("sigprop_test_opaque")
    before = state(model)
    result = sigprop.probe(model, inputs, keep_attention=True)
    assert_left_as_it_was(model, before, "sigprop_test_opaque")
    assert AttentionInterface._global_mapping["sigprop_test_opaque"] is opaque  # unwrapped again
    for mine, theirs in zip(result.attention, eager):
        assert mine["source"] == "transformers:sigprop_test_opaque"
        assert (mine["matrix"] - theirs.double()).abs().max().item() < 1e-5
    expected = [{n: norm_of(expected_grads, *w) for n, w in named_weights("llama", model, l).items()}
                for l in range(4)]
    check_gradients(result, expected)
