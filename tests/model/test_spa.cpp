// Signal-preserving attention (paper 001): the defining identity Σ_l = A_l Σ_{l−1} A_l^T, the
// closed form of docs/methods.md, the softmax realisation inside the model, and U-SPA's sign condition.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "config/spec_io.h"
#include "core/error.h"
#include "model/attention/attention_matrix.h"
#include "model/transformer.h"
#include "math/spa.h"

using namespace sigprop;

namespace {
double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }
}  // namespace

TEST(Spa, EspaPreservesTheKernelPath) {
  const int L = 8, T = 32;
  for (bool causal : {true, false}) {
    for (int l = 1; l <= L; ++l) {
      auto prev = espa_kernel(T, espa_gamma_schedule(l - 1, L, 0.05));
      auto cur = espa_kernel(T, espa_gamma_schedule(l, L, 0.05));
      auto A = spa_attention(prev, cur, causal);
      EXPECT_LT(max_abs(torch::matmul(torch::matmul(A, prev), A.t()) - cur), 1e-10) << l;
      if (causal) EXPECT_EQ(max_abs(A.triu(1)), 0.0);
    }
  }
}

TEST(Spa, GammaScheduleEndsAtGammaL) {
  EXPECT_TRUE(std::isinf(espa_gamma_schedule(0, 12, 0.005)));
  EXPECT_NEAR(espa_gamma_schedule(12, 12, 0.005), 0.005, 1e-12);
  for (int l = 1; l < 12; ++l)
    EXPECT_GT(espa_gamma_schedule(l, 12, 0.005), espa_gamma_schedule(l + 1, 12, 0.005));
  EXPECT_NEAR(uspa_rho_schedule(0, 10, 0.8), 0.0, 1e-15);
  EXPECT_NEAR(uspa_rho_schedule(10, 10, 0.8), 0.8, 1e-12);
}

TEST(Spa, CholeskyPathEqualsClosedForm) {
  const int L = 8, T = 32;
  for (int l = 1; l <= L; ++l) {
    const double gp = espa_gamma_schedule(l - 1, L, 0.005), g = espa_gamma_schedule(l, L, 0.005);
    auto A = spa_attention(espa_kernel(T, gp), espa_kernel(T, g), true);
    EXPECT_LT(max_abs(A - espa_closed_form(T, gp, g)), 1e-9) << "layer " << l;
  }
}

TEST(Spa, SoftmaxRealisationReproducesALInTheModel) {
  // W_Q = 0: the model's attention is D_l softmax(B_l) = A_l exactly (float32).
  for (const char* variant : {"espa", "uspa"}) {
    ModelSpec s;
    s.depth = 6, s.width = 32, s.heads = 2, s.mlp_width = 0, s.max_seq = 40;
    s.attention = variant, s.zero_queries = true, s.espa_gamma = 0.1, s.uspa_rho = 0.7;
    s.input = InputKind::Raw, s.positional = Positional::None, s.norm = NormPlace::None;
    s.residual.kind = ResidualScale::Kind::None;
    torch::manual_seed(0);
    Transformer model(s);
    ForwardTrace trace;
    torch::NoGradGuard g;
    model->forward(torch::randn({2, 24, 32}), &trace);
    for (int l = 1; l <= s.depth; ++l) {
      auto want = spa_layer_matrix(attention_options(s, 0), 24, l).to(torch::kFloat);
      EXPECT_LT(max_abs(trace.attn[l - 1] - want), 1e-5) << variant << " layer " << l;
    }
  }
}

TEST(Spa, UspaIsNonNegativeForNonDecreasingRho) {
  const int T = 20;
  for (double rho_L : {0.1, 0.5, 0.95}) {
    for (int l = 1; l <= 6; ++l) {
      auto A = spa_attention(uspa_kernel(T, uspa_rho_schedule(l - 1, 6, rho_L)),
                             uspa_kernel(T, uspa_rho_schedule(l, 6, rho_L)), true);
      EXPECT_GE(A.min().item<double>(), -1e-12) << rho_L << " " << l;
    }
  }
}

TEST(Spa, DecreasingRhoIsAClearError) {
  auto A = spa_attention(uspa_kernel(16, 0.5), uspa_kernel(16, 0.3), true);
  ASSERT_LT(A.min().item<double>(), 0.0);
  try {
    softmax_realisation(A, "uspa A_3");
    FAIL() << "accepted a negative A";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("non-decreasing"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("uspa A_3"), std::string::npos) << e.what();
  }
  ModelSpec s;
  apply_override(s, "uspa_rho=-0.2");
  EXPECT_THROW(s.validate(), ConfigError);
}

TEST(Spa, VanillaAttentionOnlyStackFollowsTheTargetKernel) {
  // X_l = A_l X_{l-1} W_V W_O with orthogonal W: from X_0 X_0^T = d I, X_L X_L^T / d = Σ_L.
  ModelSpec s;
  s.depth = 8, s.width = 64, s.heads = 1, s.mlp_width = 0, s.max_seq = 16;
  s.attention = "espa", s.zero_queries = true, s.espa_gamma = 0.2, s.init = InitKind::Orthogonal;
  s.input = InputKind::Raw, s.positional = Positional::None, s.norm = NormPlace::None;
  s.residual.kind = ResidualScale::Kind::None;
  torch::manual_seed(1);
  Transformer model(s);
  auto x0 = std::get<0>(torch::linalg_qr(torch::randn({64, 16}, torch::kDouble))).t() * 8.0;
  torch::NoGradGuard g;
  auto xL = model->forward(x0.to(torch::kFloat).unsqueeze(0))[0].to(torch::kDouble);
  auto kernel = torch::matmul(xL, xL.t()) / 64.0;
  EXPECT_LT(max_abs(kernel - espa_kernel(16, 0.2)), 1e-4);
}
