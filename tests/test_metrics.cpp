// Metrics on matrices whose answer is known (METHODS.md, "Metrics").
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "probe/metrics.h"

using namespace sigprop;

TEST(Metrics, IdenticalTokensAreCollapsed) {
  auto x = torch::randn({1, 1, 16}).expand({2, 10, 16}).contiguous();  // X = 1 x^T
  EXPECT_NEAR(mean_token_cosine(x), 1.0, 1e-12);
  EXPECT_NEAR(token_similarity(x), 1.0, 1e-12);
  EXPECT_NEAR(collapse_residual(x), 0.0, 1e-7);
  EXPECT_NEAR(stable_rank(x), 1.0, 1e-9);
}

TEST(Metrics, OrthonormalRowsHaveFullStableRank) {
  const int64_t T = 12, d = 20;
  auto q = std::get<0>(torch::linalg_qr(torch::randn({d, T}, torch::kDouble)));  // (d, T)
  auto x = q.t().unsqueeze(0);                                                      // (1, T, d)
  EXPECT_NEAR(stable_rank(x), double(T), 1e-9);
  EXPECT_NEAR(gram_stable_rank(x), double(T), 1e-9);
  EXPECT_NEAR(mean_token_cosine(x), 0.0, 1e-12);
}

TEST(Metrics, TokenSimilarityIsMeanEnergyFraction) {
  // t_sim = T |x̄|^2 / |X|_F^2, checked against a direct computation on a fixed matrix.
  auto x = torch::tensor({{1.0, 0.0}, {1.0, 2.0}, {-1.0, 1.0}}, torch::kDouble).unsqueeze(0);
  const double mean0 = 1.0 / 3, mean1 = 1.0, frob2 = 1 + 1 + 4 + 1 + 1;
  EXPECT_NEAR(token_similarity(x), 3 * (mean0 * mean0 + mean1 * mean1) / frob2, 1e-12);
  EXPECT_NEAR(collapse_residual(x), std::sqrt(1 - 3 * (mean0 * mean0 + mean1 * mean1) / frob2), 1e-12);
}

TEST(Metrics, GramStableRankUsesFourthPowers) {
  // Diagonal X with singular values 2 and 1: sr(X) = (4+1)/4, sr(XX^T) = (16+1)/16.
  auto x = torch::tensor({{2.0, 0.0}, {0.0, 1.0}}, torch::kDouble).unsqueeze(0);
  EXPECT_NEAR(stable_rank(x), 5.0 / 4, 1e-12);
  EXPECT_NEAR(gram_stable_rank(x), 17.0 / 16, 1e-12);
}

TEST(Metrics, UniformAttentionSpectrum) {
  // A = (1/T) 1 1^T: sigma = (1, 0, ...), eigenvalues (1, 0, ...), row entropy log T.
  const int64_t T = 8;
  auto A = torch::full({1, 2, T, T}, 1.0 / T, torch::kDouble);
  auto s = attention_spectrum(A);
  EXPECT_NEAR(s.sigma1, 1.0, 1e-12);
  EXPECT_NEAR(s.sigma2, 0.0, 1e-7);
  EXPECT_NEAR(s.lambda2, 0.0, 1e-6);
  EXPECT_NEAR(s.entropy, std::log(double(T)), 1e-12);
}

TEST(Metrics, IdentityAttentionSpectrum) {
  auto A = torch::eye(6, torch::kDouble).expand({1, 1, 6, 6});
  auto s = attention_spectrum(A);
  EXPECT_NEAR(s.sigma1, 1.0, 1e-12);
  EXPECT_NEAR(s.sigma2, 1.0, 1e-12);
  EXPECT_NEAR(s.lambda2, 1.0, 1e-12);
  EXPECT_NEAR(s.entropy, 0.0, 1e-12);
}

TEST(Metrics, NegativeAttentionHasNoEntropy) {
  auto A = (torch::eye(4, torch::kDouble) - 0.25).expand({1, 1, 4, 4});
  EXPECT_TRUE(std::isnan(attention_spectrum(A).entropy));
}
