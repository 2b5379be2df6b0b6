// The statistics behind every agreement figure: KS distances and critical values, quantiles,
// histograms, line fits, and the random-matrix laws of paper 003.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "math/stats.h"

using namespace sigprop;

TEST(TheoryStats, TwoSampleKs) {
  EXPECT_DOUBLE_EQ(ks_two_sample({1, 2, 3}, {1, 2, 3}), 0.0);
  EXPECT_DOUBLE_EQ(ks_two_sample({1, 2, 3}, {4, 5}), 1.0);
  EXPECT_NEAR(ks_two_sample({1, 2, 3}, {2.5}), 2.0 / 3.0, 1e-15);  // at x = 2: 2/3 vs 0
  EXPECT_NEAR(ks_two_sample({0, 0, 1, 1}, {0, 1}), 0.0, 1e-15);    // ties counted together
  EXPECT_THROW(ks_two_sample({}, {1}), ConfigError);
}

TEST(TheoryStats, CriticalValueAndPValue) {
  // docs/methods.md 004: 4096 vs 4096 samples, 5% critical value 0.030.
  EXPECT_NEAR(ks_critical(4096, 4096), 0.0300, 5e-5);
  EXPECT_NEAR(ks_critical(100, 0), 1.3581 / 10.0, 1e-4);
  EXPECT_NEAR(ks_pvalue(ks_critical(4000, 0), 4000, 0), 0.05, 0.005);
  EXPECT_GT(ks_pvalue(0.001, 1000, 1000), 0.99);
  EXPECT_LT(ks_pvalue(0.2, 1000, 1000), 1e-10);
}

TEST(TheoryStats, OneSampleKsAgainstTheUniform) {
  std::vector<double> grid;
  for (int i = 0; i < 100; ++i) grid.push_back((i + 0.5) / 100.0);
  auto uniform = [](double x) { return std::fmin(1.0, std::fmax(0.0, x)); };
  EXPECT_NEAR(ks_one_sample(grid, uniform), 0.005, 1e-12);
  for (double& x : grid) x = x * x;  // no longer uniform
  EXPECT_GT(ks_one_sample(grid, uniform), 0.2);
}

TEST(TheoryStats, QuantilesAndSummary) {
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.1), 1.3);
  const auto s = summarize({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_NEAR(s.sd, std::sqrt(5.0 / 3.0), 1e-15);
  EXPECT_DOUBLE_EQ(s.q90, 3.7);
}

TEST(TheoryStats, HistogramIntegratesToOne) {
  const auto h = histogram_density({-2, 0.1, 0.2, 0.9, 5}, 0.0, 1.0, 4);
  double total = 0;
  for (double v : h) total += v * 0.25;
  EXPECT_NEAR(total, 1.0, 1e-15);
  EXPECT_DOUBLE_EQ(h[0], 3 / (5 * 0.25));  // -2 clamps into the first bin
}

TEST(TheoryStats, LineFit) {
  const auto f = fit_line({1, 2, 3, 4}, {3, 5, 7, 9});
  EXPECT_NEAR(f.slope, 2.0, 1e-14);
  EXPECT_NEAR(f.intercept, 1.0, 1e-14);
  EXPECT_NEAR(f.r2, 1.0, 1e-14);
  EXPECT_NEAR(f.slope_se, 0.0, 1e-7);
  EXPECT_NEAR(fit_line({1, 2, 3}, {1, 3, 2}).slope_se, std::sqrt(1.5 / 2.0), 1e-12);
  EXPECT_THROW(fit_line({1, 1}, {2, 3}), ConfigError);
}

TEST(TheoryStats, QuarterCircleAndDisk) {
  // Density integrates to the CDF; radius 2 (σ/m = 1) has E[s²] = 1.
  double cdf = 0, second = 0;
  const double r = 2.0, dx = 1e-5;
  for (double x = dx / 2; x < r; x += dx) {
    cdf += quarter_circle_density(x, r) * dx;
    second += x * x * quarter_circle_density(x, r) * dx;
    if (std::fabs(x - 1.3) < dx / 2) EXPECT_NEAR(cdf, quarter_circle_cdf(1.3, r), 1e-6);
  }
  EXPECT_NEAR(cdf, 1.0, 1e-6);
  EXPECT_NEAR(second, 1.0, 1e-6);
  EXPECT_NEAR(quarter_circle_density(0.0, 2.0), 2.0 / M_PI, 1e-15);  // (1/π)√(4 − 0)
  EXPECT_DOUBLE_EQ(circular_law_modulus_cdf(0.5, 1.0), 0.25);
  EXPECT_DOUBLE_EQ(circular_law_modulus_cdf(3.0, 1.0), 1.0);
}
