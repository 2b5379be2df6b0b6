// Metrics on matrices whose answer is known (docs/methods.md#metrics).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "probe/metrics.h"

using namespace sigprop;

TEST(Metrics, IdenticalTokensAreCollapsed) {
  auto x = torch::randn({1, 1, 16}).expand({2, 10, 16}).contiguous();  // X = 1 x^T
  const auto m = token_metrics(x);
  EXPECT_NEAR(m.cosine, 1.0, 1e-12);
  EXPECT_NEAR(m.t_sim, 1.0, 1e-12);
  EXPECT_NEAR(m.res, 0.0, 1e-7);
  EXPECT_NEAR(m.stable_rank, 1.0, 1e-9);
  EXPECT_NEAR(m.gram_stable_rank, 1.0, 1e-9);
  EXPECT_NEAR(stable_rank(x), 1.0, 1e-9);
}

TEST(Metrics, OrthonormalRowsHaveFullStableRank) {
  const int64_t T = 12, d = 20;
  auto q = std::get<0>(torch::linalg_qr(torch::randn({d, T}, torch::kDouble)));  // (d, T)
  auto x = q.t().unsqueeze(0);                                                      // (1, T, d)
  EXPECT_NEAR(stable_rank(x), double(T), 1e-9);
  EXPECT_NEAR(gram_stable_rank(x), double(T), 1e-9);
  const auto m = token_metrics(x);
  EXPECT_NEAR(m.stable_rank, double(T), 1e-9);
  EXPECT_NEAR(m.gram_stable_rank, double(T), 1e-9);
  EXPECT_NEAR(m.cosine, 0.0, 1e-12);
  // More tokens than features (T > d): the ranks come from the d x d Gram instead.
  const auto wide = token_metrics(x.transpose(1, 2));
  EXPECT_NEAR(wide.stable_rank, double(T), 1e-9);
  EXPECT_NEAR(wide.gram_stable_rank, double(T), 1e-9);
}

// Tokens ±v around the mean m: cosine and t_sim call it healthy, the centred stable rank says
// collapsed onto one direction.
TEST(Metrics, CentredStableRankSeesCollapseAroundTheMean) {
  for (const int64_t d : {32, 6}) {  // T < d and T > d take different Gram matrices
    const int64_t T = 10;
    auto basis = std::get<0>(torch::linalg_qr(torch::randn({d, 2}, torch::kDouble)));  // (d, 2)
    auto v = basis.select(1, 0), mean = basis.select(1, 1);
    auto sign = torch::tensor({1.0, -1.0}, torch::kDouble).repeat({T / 2}).unsqueeze(1);  // (T, 1)
    auto pm = (sign * v.unsqueeze(0)).unsqueeze(0);                                    // (1, T, d)
    auto m0 = token_metrics(pm);
    EXPECT_NEAR(m0.cosine, -1.0 / (T - 1), 1e-12) << d;
    EXPECT_NEAR(m0.t_sim, 0.0, 1e-12) << d;
    EXPECT_NEAR(m0.centred_stable_rank, 1.0, 1e-9) << d;
    // With a mean as large as v: sr(X) = 2 (two equal singular values), centred still 1.
    auto shifted = pm + mean.view({1, 1, d});
    auto m1 = token_metrics(shifted);
    EXPECT_NEAR(m1.stable_rank, 2.0, 1e-9) << d;
    EXPECT_NEAR(m1.t_sim, 0.5, 1e-12) << d;
    EXPECT_NEAR(m1.centred_stable_rank, 1.0, 1e-9) << d;
    // Independent Gaussian tokens keep a centred stable rank of several.
    EXPECT_GT(token_metrics(torch::randn({2, T, d}, torch::kDouble)).centred_stable_rank, 1.5) << d;
  }
}

TEST(Metrics, TokenSimilarityIsMeanEnergyFraction) {
  // t_sim = T |x̄|^2 / |X|_F^2, checked against a direct computation on a fixed matrix.
  auto x = torch::tensor({{1.0, 0.0}, {1.0, 2.0}, {-1.0, 1.0}}, torch::kDouble).unsqueeze(0);
  const double mean0 = 1.0 / 3, mean1 = 1.0, frob2 = 1 + 1 + 4 + 1 + 1;
  const auto m = token_metrics(x);
  EXPECT_NEAR(m.t_sim, 3 * (mean0 * mean0 + mean1 * mean1) / frob2, 1e-12);
  EXPECT_NEAR(m.res, std::sqrt(1 - 3 * (mean0 * mean0 + mean1 * mean1) / frob2), 1e-12);
  // Cosines of the three token pairs: (0,1) 1/√5, (0,2) -1/√2, (1,2) 1/√10.
  EXPECT_NEAR(m.cosine, (1 / std::sqrt(5.0) - 1 / std::sqrt(2.0) + 1 / std::sqrt(10.0)) / 3, 1e-12);
}

TEST(Metrics, GramStableRankUsesFourthPowers) {
  // Diagonal X with singular values 2 and 1: sr(X) = (4+1)/4, sr(XX^T) = (16+1)/16.
  auto x = torch::tensor({{2.0, 0.0}, {0.0, 1.0}}, torch::kDouble).unsqueeze(0);
  EXPECT_NEAR(stable_rank(x), 5.0 / 4, 1e-12);
  EXPECT_NEAR(gram_stable_rank(x), 17.0 / 16, 1e-12);
  EXPECT_NEAR(token_metrics(x).gram_stable_rank, 17.0 / 16, 1e-12);
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

TEST(Metrics, TriangularAttentionEigenvaluesAreItsDiagonal) {
  // A causal A is lower triangular; |λ₂| must be the second largest |diagonal entry|, as the
  // general eigensolver gives for the same matrix with one entry above the diagonal perturbed.
  auto A = torch::tensor({{1.0, 0.0, 0.0}, {0.3, 0.7, 0.0}, {-0.2, 0.1, 0.5}}, torch::kDouble);
  EXPECT_NEAR(attention_spectrum(A.expand({1, 1, 3, 3})).lambda2, 0.7, 1e-15);
  auto general = A.clone();
  general[0][2] = 1e-9;
  EXPECT_NEAR(attention_spectrum(general.expand({1, 1, 3, 3})).lambda2, 0.7, 1e-6);
  const auto random = torch::rand({2, 3, 7, 7}, torch::kDouble).tril();
  const auto ev = torch::linalg_eigvals(random.flatten(0, 1)).abs();
  const double expected = std::get<0>(ev.sort(-1, true)).select(-1, 1).mean().item<double>();
  EXPECT_NEAR(attention_spectrum(random).lambda2, expected, 1e-12);
}
