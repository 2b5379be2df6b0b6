// The stability fixes of the block (docs/methods.md): QK-norm, LayerScale, ReZero, DeepNorm,
// sandwich norm and 1/L. Each block's forward against its formula written out here on the
// block's own weights (float64, so a difference is a bug, not rounding), DeepNorm's β-scaled
// initialisation against the same draws unscaled, and the learnable gains as parameters that
// the loss reaches.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>

#include "config/spec_io.h"
#include "model/block.h"
#include "model/transformer.h"

using namespace sigprop;

namespace {

constexpr int64_t kB = 2, kT = 7, kD = 12, kH = 3, kHidden = 20;

ModelSpec spec_with(const std::vector<std::string>& overrides) {
  ModelSpec s;
  s.depth = 5, s.width = kD, s.heads = kH, s.mlp_width = kHidden, s.input = InputKind::Raw;
  for (const auto& o : overrides) apply_override(s, o);
  s.validate();
  return s;
}

// A float64 block 0 of `spec`, every parameter (gains included) drawn at random, so nothing the
// formulas multiply is 0 or 1.
Block random_block(const ModelSpec& spec) {
  torch::manual_seed(3);
  Block block(block_options(spec, 0));
  block->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  for (auto& p : block->parameters()) p.copy_(0.3 * torch::randn_like(p) + 0.5);
  return block;
}

torch::Tensor param(const Block& block, const std::string& name) {
  return block->named_parameters()[name];
}

// LayerNorm of `name` (ln_1, ln_2_out, ...): (x − mean) / √(var + ε) · w + b, ε = 1e-5.
torch::Tensor layer_norm(const Block& block, const std::string& name, const torch::Tensor& x) {
  const auto mean = x.mean(-1, true), var = (x - mean).pow(2).mean(-1, true);
  return (x - mean) / torch::sqrt(var + 1e-5) * param(block, name + ".weight") + param(block, name + ".bias");
}

// Causal softmax attention, q and k RMS-normalised per head with the block's gains when qk_norm.
torch::Tensor attention(const Block& block, const torch::Tensor& x, bool qk_norm) {
  const int64_t dk = kD / kH;
  const auto heads = [&](const std::string& w) {
    return torch::matmul(x, param(block, "attn." + w + ".weight").t()).view({kB, kT, kH, dk}).transpose(1, 2);
  };
  auto q = heads("w_q"), k = heads("w_k"), v = heads("w_v");
  if (qk_norm) {
    const auto rms = [](const torch::Tensor& t, const torch::Tensor& g) {
      return t / torch::sqrt(t.pow(2).mean(-1, true) + 1e-6) * g;
    };
    q = rms(q, param(block, "attn.qk_norm.q_gain")), k = rms(k, param(block, "attn.qk_norm.k_gain"));
  }
  auto logits = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(dk));
  logits = logits.masked_fill(torch::ones({kT, kT}, torch::kBool).triu(1), -INFINITY);
  const auto y = torch::matmul(torch::softmax(logits, -1), v).transpose(1, 2).reshape({kB, kT, kD});
  return torch::matmul(y, param(block, "attn.w_o.weight").t());
}

torch::Tensor mlp(const Block& block, const torch::Tensor& x) {
  const auto fc = [&](const std::string& n, const torch::Tensor& in) {
    return torch::matmul(in, param(block, "mlp." + n + ".weight").t()) + param(block, "mlp." + n + ".bias");
  };
  return fc("fc2", torch::relu(fc("fc1", x)));
}

// max |block(x) − expected(x)| for the spec `overrides` describe.
double block_error(const std::vector<std::string>& overrides,
                   const std::function<torch::Tensor(const Block&, const torch::Tensor&)>& expected) {
  Block block = random_block(spec_with(overrides));
  torch::manual_seed(4);
  const auto x = torch::randn({kB, kT, kD}, torch::kDouble);
  torch::NoGradGuard no_grad;
  return (block->forward(x) - expected(block, x)).abs().max().item<double>();
}

}  // namespace

TEST(StabilityFixes, EachBlockIsItsFormulaOnItsOwnWeights) {
  const double L = 5;
  // LayerScale (CaiT): X + diag(g) f(LN(X)), g per channel and per branch.
  EXPECT_LT(block_error({"norm=pre", "residual=layerscale"}, [](const Block& b, const torch::Tensor& x) {
              const auto z = x + param(b, "residual_1.gain") * attention(b, layer_norm(b, "ln_1", x), false);
              return z + param(b, "residual_2.gain") * mlp(b, layer_norm(b, "ln_2", z));
            }), 1e-10);
  // ReZero: X + g f(X), g a scalar per branch, no norm.
  EXPECT_LT(block_error({"norm=none", "residual=rezero"}, [](const Block& b, const torch::Tensor& x) {
              const auto z = x + param(b, "residual_1.gain") * attention(b, x, false);
              return z + param(b, "residual_2.gain") * mlp(b, z);
            }), 1e-10);
  // DeepNorm (DeepNet): LN(a X + f(X)), a = (2L)^{1/4}.
  const double a = std::pow(2 * L, 0.25);
  EXPECT_LT(block_error({"norm=post", "residual=deepnorm"}, [a](const Block& b, const torch::Tensor& x) {
              const auto z = layer_norm(b, "ln_1", a * x + attention(b, x, false));
              return layer_norm(b, "ln_2", a * z + mlp(b, z));
            }), 1e-10);
  // Sandwich (CogView): X + LN'(f(LN(X))).
  EXPECT_LT(block_error({"norm=sandwich"}, [](const Block& b, const torch::Tensor& x) {
              const auto z = x + layer_norm(b, "ln_1_out", attention(b, layer_norm(b, "ln_1", x), false));
              return z + layer_norm(b, "ln_2_out", mlp(b, layer_norm(b, "ln_2", z)));
            }), 1e-10);
  // 1/L (CompleteP): X + f(LN(X)) / L.
  EXPECT_LT(block_error({"norm=pre", "residual=1/L"}, [L](const Block& b, const torch::Tensor& x) {
              const auto z = x + attention(b, layer_norm(b, "ln_1", x), false) / L;
              return z + mlp(b, layer_norm(b, "ln_2", z)) / L;
            }), 1e-10);
  // QK-norm (ViT-22B): RMS-normalised q, k per head with learnable gains, here in a post-LN block.
  EXPECT_LT(block_error({"qk_norm=true"}, [](const Block& b, const torch::Tensor& x) {
              const auto z = layer_norm(b, "ln_1", x + attention(b, x, true));
              return layer_norm(b, "ln_2", z + mlp(b, z));
            }), 1e-10);
  // The references can tell: QK-norm's block is not the plain one.
  EXPECT_GT(block_error({"qk_norm=true"}, [](const Block& b, const torch::Tensor& x) {
              const auto z = layer_norm(b, "ln_1", x + attention(b, x, false));
              return layer_norm(b, "ln_2", z + mlp(b, z));
            }), 1e-3);
}

TEST(StabilityFixes, GainsStartWhereThePapersPutThemAndLearn) {
  const auto gains = [](const ModelSpec& s) {
    torch::manual_seed(1);
    Transformer model(s);
    return model->named_parameters();
  };
  // LayerScale: CaiT's init by depth, per channel; an explicit layerscale_init wins.
  for (const auto& [depth, init] : std::vector<std::pair<int, double>>{{18, 0.1}, {19, 1e-5}, {25, 1e-6}}) {
    ModelSpec s = spec_with({"norm=pre", "residual=layerscale"});
    s.depth = depth;
    const auto g = gains(s)["blocks.0.residual_2.gain"];
    ASSERT_EQ(g.numel(), kD);
    EXPECT_TRUE(torch::equal(g, torch::full({kD}, init))) << depth;
  }
  EXPECT_DOUBLE_EQ(gains(spec_with({"residual=layerscale", "norm=pre", "layerscale_init=0.25"}))
                       ["blocks.4.residual_1.gain"][0].item<double>(), 0.25);
  // ReZero: one scalar per branch, 0; QK-norm: gains of d_k, 1; sandwich: a norm per branch output.
  const auto params = gains(spec_with({"residual=rezero", "norm=sandwich", "qk_norm=true"}));
  EXPECT_EQ(params["blocks.2.residual_1.gain"].numel(), 1);
  EXPECT_EQ(params["blocks.2.residual_2.gain"].item<double>(), 0.0);
  EXPECT_TRUE(torch::equal(params["blocks.2.attn.qk_norm.q_gain"], torch::ones({kD / kH})));
  EXPECT_TRUE(params.contains("blocks.2.ln_2_out.weight"));

  // The loss reaches every gain, so training updates them (and checkpoints, which save the
  // named parameters, keep them).
  ModelSpec s = spec_with({"residual=layerscale", "norm=sandwich", "qk_norm=true"});
  torch::manual_seed(2);
  Transformer model(s);
  model->forward(torch::randn({kB, kT, kD})).pow(2).sum().backward();
  int checked = 0;
  for (const auto& p : model->named_parameters())
    if (p.key().find("gain") != std::string::npos) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().max().item<double>(), 0) << p.key();
      ++checked;
    }
  EXPECT_EQ(checked, s.depth * 4);  // two branch gains and two QK gains per block
}

// DeepNet's init: the same draws as the unscaled model, W_V, W_O, W_1 and W_2 times
// β = (8L)^{-1/4}, W_Q and W_K as drawn.
TEST(StabilityFixes, DeepNormScalesAllButQueryAndKeyMatricesByBeta) {
  ModelSpec deep = spec_with({"residual=deepnorm"}), plain = spec_with({});
  deep.depth = plain.depth = 6;
  torch::manual_seed(9);
  Transformer a(deep);
  torch::manual_seed(9);
  Transformer b(plain);
  const double beta = std::pow(8.0 * 6, -0.25);
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  int scaled = 0, kept = 0;
  for (const auto& p : pb) {
    const auto& key = p.key();
    if (key.rfind("blocks.", 0) != 0 || key.find(".weight") == std::string::npos ||
        key.find("ln_") != std::string::npos) {
      EXPECT_TRUE(torch::equal(pa[key], p.value())) << key;
      continue;
    }
    const bool qk = key.find("w_q") != std::string::npos || key.find("w_k") != std::string::npos;
    const auto expected = qk ? p.value() : p.value() * beta;
    EXPECT_LT((pa[key] - expected).abs().max().item<double>(), 1e-7) << key;
    EXPECT_GT(p.value().abs().max().item<double>(), 0.1) << key;  // a real draw, not zeros
    ++(qk ? kept : scaled);
  }
  EXPECT_EQ(scaled, 4 * 6);
  EXPECT_EQ(kept, 2 * 6);
}
