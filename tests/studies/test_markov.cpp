// Paper 003 (Naderi, Nait Saada & Tanner 2024): the outlier √T, the quarter-circle bulk, the
// circular law, gap removal, and stable rank against T.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include "probe/metrics.h"
#include "studies/markov/markov_study.h"

using namespace sigprop;

TEST(TheoryMarkov, OutlierAtRootTAndQuarterCircleBulk) {
  auto gen = at::detail::createCPUGenerator(3);
  const int64_t T = 400;
  auto A = random_markov_matrix(1, T, gen)[0];
  EXPECT_NEAR(A.sum(1).sub(1).abs().max().item<double>(), 0.0, 1e-12);  // row-stochastic
  auto s = torch::linalg_svdvals(std::sqrt(double(T)) * A);
  EXPECT_NEAR(s[0].item<double>() / std::sqrt(double(T)), 1.0, 0.01);  // docs/methods.md: 20.0
  EXPECT_NEAR(s[1].item<double>(), 2.0, 0.2);                          // docs/methods.md: 1.99
  std::vector<double> bulk(s.data_ptr<double>() + 1, s.data_ptr<double>() + T);
  EXPECT_LT(ks_one_sample(bulk, [](double x) { return quarter_circle_cdf(x, 2.0); }), 0.05);
  // The check can fail: the same values against a quarter circle of radius 2.5.
  EXPECT_GT(ks_one_sample(bulk, [](double x) { return quarter_circle_cdf(x, 2.5); }), 0.15);
  // Gap removal: the bulk stays, the outlier goes, the stable rank grows like T/4.
  auto Ap = remove_spectral_gap(A);
  EXPECT_LT(torch::linalg_svdvals(std::sqrt(double(T)) * Ap)[0].item<double>(), 2.4);
  EXPECT_NEAR(stable_rank(Ap.unsqueeze(0)) / T, 0.25, 0.05);  // docs/methods.md: 99.4 at T = 400
  EXPECT_LT(stable_rank(A.unsqueeze(0)), 2.5);
}

TEST(TheoryMarkov, EigenvaluesFillTheDiskAndGapRemovalSendsTheOutlierToZero) {
  auto gen = at::detail::createCPUGenerator(4);
  const int64_t T = 300;
  const double root_t = std::sqrt(double(T));
  auto A = random_markov_matrix(1, T, gen)[0];
  auto ev = torch::linalg_eigvals(root_t * A).abs();
  auto sorted = std::get<0>(ev.sort(0, true));
  EXPECT_NEAR(sorted[0].item<double>(), root_t, 1e-8);  // A1 = 1 exactly
  std::vector<double> bulk(T - 1);
  for (int64_t i = 1; i < T; ++i) bulk[i - 1] = sorted[i].item<double>();
  EXPECT_LT(ks_one_sample(bulk, [](double x) { return circular_law_modulus_cdf(x, 1.0); }), 0.08);
  EXPECT_GT(ks_one_sample(bulk, [](double x) { return circular_law_modulus_cdf(x, 1.3); }), 0.2);
  auto evp =
      std::get<0>(torch::linalg_eigvals(root_t * remove_spectral_gap(A)).abs().sort(0, true));
  EXPECT_LT(evp[0].item<double>(), 1.3);                               // no outlier
  EXPECT_LT(evp[T - 1].item<double>(), 1e-8);                          // A⊥1 = 0
  EXPECT_NEAR(evp[0].item<double>(), sorted[1].item<double>(), 1e-8);  // same bulk
}

TEST(TheoryMarkov, StableRankSlopeAgainstT) {
  MarkovStudyOptions o;
  o.seqs = {64, 128, 256};
  o.draws = 2;
  o.kinds = {AttentionDraw::RandomMarkov, AttentionDraw::KeyQueryGaussian};
  o.depth = 4, o.depth_seq = 32;
  const auto s = run_markov_study(o);
  ASSERT_EQ(s.rows.size(), 3u * 2u * 2u);
  for (const auto& f : s.slopes) {
    if (!f.gap_removed)
      EXPECT_NEAR(f.layer.slope, 0.0, 0.01) << to_string(f.kind);
    else
      EXPECT_GT(f.layer.slope, f.kind == AttentionDraw::RandomMarkov ? 0.15 : 0.1)
          << to_string(f.kind);  // T/4 as d/T -> inf; less at d = 4T and small T
    if (f.gap_removed && f.kind == AttentionDraw::RandomMarkov)
      EXPECT_NEAR(f.matrix.slope, 0.25, 0.05);
  }
  for (const auto& r : s.rows) {
    EXPECT_NEAR(r.sigma1 / std::sqrt(double(r.T)),
                r.gap_removed ? r.sigma1 / std::sqrt(double(r.T)) : 1.0, 0.02);
    if (r.kind == AttentionDraw::KeyQueryGaussian) EXPECT_NEAR(r.scale / r.scale_theory, 1.0, 0.15);
    if (r.kind == AttentionDraw::RandomMarkov) EXPECT_NEAR(r.scale, 1.0, 0.1);
  }
  // The depth study: 4 stacks x {A, A_perp} x 5 layers; A_perp keeps more rank than A.
  ASSERT_EQ(s.depth_rows.size(), 8u * 5u);
  double plain_a = 0, plain_perp = 0;
  for (const auto& r : s.depth_rows)
    if (r.stack == "plain" && r.layer == 4) (r.gap_removed ? plain_perp : plain_a) = r.sr;
  EXPECT_LT(plain_a, 1.5);
  EXPECT_GT(plain_perp, 2.0 * plain_a);
}
