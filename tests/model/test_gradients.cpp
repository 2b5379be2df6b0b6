// Paper 002 (Noci et al. 2022) on our own model: rank collapse kills query/key gradients, the
// uniform-attention gradient formulas of docs/methods.md, and the 1/sqrt(L) cure of the linear
// residual stack.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/transformer.h"
#include "probe/metrics.h"

using namespace sigprop;

namespace {

// A bidirectional raw-input model without positions, so the input reaches the blocks unchanged.
ModelSpec raw_spec(int depth, int width, int heads) {
  ModelSpec s;
  s.depth = depth, s.width = width, s.heads = heads, s.mlp_width = 2 * width;
  s.input = InputKind::Raw, s.positional = Positional::None, s.causal = false;
  return s;
}

double grad_norm(const sigprop::Linear& lin) { return lin->weight.grad().norm().item<double>(); }

}  // namespace

TEST(Gradients, CollapsedInputHasNoQueryKeyGradient) {
  // X = 1 x^T: every row of the softmax sees equal logits, and the softmax Jacobian annihilates
  // the constant row gradient, so dO/dW_Q = dO/dW_K = 0 while dO/dW_V != 0 (docs/methods.md, 002).
  for (auto norm : {NormPlace::Post, NormPlace::Pre}) {
    for (bool causal : {false, true}) {
      torch::manual_seed(3);
      ModelSpec s = raw_spec(3, 32, 4);
      s.norm = norm, s.causal = causal;
      Transformer model(s);
      auto x = torch::randn({1, 1, 32}).expand({2, 10, 32}).contiguous();
      auto loss = training_loss(s, model->forward(x), torch::randn({2, 10, 32}));
      loss.backward();
      for (const auto& m : *model->blocks) {
        auto& attn = *m->as<BlockImpl>()->attn;
        const double gv = grad_norm(attn.w_v);
        EXPECT_GT(gv, 1e-3);
        EXPECT_LT(grad_norm(attn.w_q), 1e-6 * gv);
        EXPECT_LT(grad_norm(attn.w_k), 1e-6 * gv);
      }
    }
  }
}

TEST(Gradients, UniformAttentionFormulas) {
  // One head, W_Q = 0 (so A = Π), W_O = I, O = <R, A X W_V> with R ~ N(0, 1) entries:
  //   E|dO/dW_Q|_F^2 = |X|_F^2 |W_K^T X^T P X W_V|_F^2 / (T^2 d_k),  E|dO/dW_V|_F^2 = T d_v |x̄|^2.
  const int64_t T = 12, d = 24;
  torch::manual_seed(7);
  ModelSpec s = raw_spec(1, d, 1);
  s.mlp_width = 0, s.norm = NormPlace::None, s.zero_queries = true;
  Transformer model(s);
  auto& attn = *model->blocks[0]->as<BlockImpl>()->attn;
  {
    torch::NoGradGuard g;
    attn.w_o->weight.copy_(torch::eye(d));
  }
  auto X = torch::randn({1, T, d});
  auto Xd = X[0].to(torch::kDouble);
  auto WK = attn.w_k->weight.t().to(torch::kDouble), WV = attn.w_v->weight.t().to(torch::kDouble);
  auto P = torch::eye(T, torch::kDouble) - 1.0 / T;
  const double d_k = d, d_v = d;
  const double expect_q = Xd.pow(2).sum().item<double>() *
                          torch::matmul(torch::matmul(WK.t(), Xd.t()), torch::matmul(P, torch::matmul(Xd, WV)))
                              .pow(2).sum().item<double>() / (T * T * d_k);
  const double expect_v = T * d_v * Xd.mean(0).pow(2).sum().item<double>();

  const int samples = 2000;
  double sum_q = 0, sum_v = 0;
  for (int i = 0; i < samples; ++i) {
    model->zero_grad();
    auto out = attn.forward(X);
    (out * torch::randn_like(out)).sum().backward();
    sum_q += std::pow(grad_norm(attn.w_q), 2);
    sum_v += std::pow(grad_norm(attn.w_v), 2);
  }
  EXPECT_NEAR(sum_q / samples / expect_q, 1.0, 0.06);
  EXPECT_NEAR(sum_v / samples / expect_v, 1.0, 0.06);
}

namespace {

// X <- X + α Π X W_V with uniform attention, W_V ~ N(0, 1/d), W_O = I, no norm, no MLP.
ForwardTrace linear_residual_stack(int depth, const std::string& residual, uint64_t seed) {
  const int d = 256;
  ModelSpec s = raw_spec(depth, d, 1);
  s.mlp_width = 0, s.norm = NormPlace::None, s.attention = "uniform";
  s.init = InitKind::Normal, s.init_std = 1.0 / std::sqrt(double(d));
  s.residual = residual == "1/sqrt(L)" ? ResidualScale{ResidualScale::Kind::InvSqrtDepth, 1.0}
                                       : ResidualScale{ResidualScale::Kind::Constant, 1.0};
  torch::manual_seed(seed);
  Transformer model(s);
  torch::NoGradGuard g;
  for (const auto& m : *model->blocks) m->as<BlockImpl>()->attn->w_o->weight.copy_(torch::eye(d));
  ForwardTrace trace;
  model->forward(torch::randn({1, 32, d}, torch::kFloat), &trace);
  return trace;
}

}  // namespace

TEST(Gradients, LinearResidualStackCollapsesWithoutScaling) {
  const int L = 64;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    auto plain = linear_residual_stack(L, "1", seed);
    auto scaled = linear_residual_stack(L, "1/sqrt(L)", seed);
    EXPECT_GT(token_metrics(plain.hidden.back()).cosine, 0.999);
    EXPECT_LT(token_metrics(scaled.hidden.back()).cosine, 0.3);
    // Mean-token energy grows by (1 + 1/L)^L < e under 1/sqrt(L).
    auto energy = [](const torch::Tensor& x) { return x.mean(1).pow(2).sum().item<double>(); };
    const double growth = energy(scaled.hidden.back()) / energy(scaled.hidden.front());
    EXPECT_NEAR(growth / std::pow(1.0 + 1.0 / L, L), 1.0, 0.5) << "seed " << seed;
  }
}

TEST(Gradients, LinearResidualStackMovesOnlyTheMeanToken) {
  // P X_l = P X_0 at every layer. Checked at L = 8, before the mean token has grown so much that
  // float32 rounding of it swamps the centred part.
  auto trace = linear_residual_stack(8, "1", 42);
  auto centred = [](const torch::Tensor& x) { return (x - x.mean(1, true)).to(torch::kDouble); };
  const auto x0 = centred(trace.hidden.front());
  for (const auto& x : trace.hidden)
    EXPECT_LT((centred(x) - x0).norm().item<double>(), 1e-4 * x0.norm().item<double>());
}

TEST(Gradients, MeanTokenEnergyGrowsAsOnePlusAlphaSquaredToTheL) {
  // E|x̄_L|^2 / |x̄_0|^2 = (1 + α^2)^L; averaged in log over seeds at α = 1, L = 12.
  const int L = 12;
  double log_growth = 0;
  const int seeds = 16;
  for (int seed = 0; seed < seeds; ++seed) {
    auto t = linear_residual_stack(L, "1", 100 + seed);
    log_growth += std::log(t.hidden.back().mean(1).pow(2).sum().item<double>() /
                           t.hidden.front().mean(1).pow(2).sum().item<double>());
  }
  EXPECT_NEAR(log_growth / seeds, L * std::log(2.0), 0.6);
}
