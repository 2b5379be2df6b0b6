// Paper 001 (He et al. 2023) theory beside measurement: the TAT slope table, and deep vanilla
// networks at initialisation against C^{∘l}(c₀) and the kernel recursion.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "math/tat.h"
#include "studies/tat/tat_study.h"

using namespace sigprop;

TEST(TheoryTat, StudyMatchesCMapIteratesAndTheKernelRecursion) {
  TatStudyOptions o;
  o.depth = 16, o.width = 256, o.networks = 8, o.c0s = {0.0, 0.5};
  o.transformer_width = 256, o.seq = 16, o.batch = 2, o.transformers = 4;
  const auto s = run_tat_study(o);
  EXPECT_NEAR(s.slope, tat_solve_slope(0.9, 16), 1e-12);
  // The slope table carries docs/methods.md's reference values and marks unreachable cells.
  for (const auto& c : s.table) {
    if (c.n == 18 && c.eta == 0.9) EXPECT_NEAR(c.slope, 0.146, 1e-3);
    if (c.n == 12 && c.eta == 0.5) EXPECT_NEAR(c.slope, 0.488, 1e-3);
    if (c.n == 12 && c.eta == 0.9) EXPECT_TRUE(std::isnan(c.slope));
    if (c.n == 13 && c.eta == 0.9) EXPECT_FALSE(std::isnan(c.slope));
  }
  // Every C^N curve passes through (0, η).
  for (const auto& c : s.iterates) EXPECT_NEAR(c.values[100], 0.9, 1e-9) << c.label;
  // Deep vanilla MLP: the measured correlation follows C^l(c0) within finite-width error, and the
  // check can fail: the ReLU chain (slope 0) would be far off.
  EXPECT_LT(s.mlp_max_error, 0.06);
  for (const auto& r : s.mlp)
    if (r.c0 == 0.0 && r.layer == o.depth) {
      EXPECT_NEAR(r.predicted, 0.9, 1e-9);
      EXPECT_GT(std::fabs(r.measured - tat_c_map_iterate(0.0, 0.0, o.depth)), 0.03);
    }
  // Vanilla transformer: the token kernel follows Σ ← C(A Σ Aᵀ) layer by layer.
  EXPECT_LT(s.transformer_max_error, 0.04);
  EXPECT_GT(s.transformer.back().predicted_mean_rho, s.transformer[1].predicted_mean_rho);
}

TEST(TheoryTat, UnreachableEtaNamesTheOptions) {
  TatStudyOptions o;
  o.depth = 8;
  try {
    validate(o);
    FAIL();
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--eta 0.9 is unreachable with --depth 8"), std::string::npos) << msg;
  }
  o.depth = 24, o.seq = 300;
  EXPECT_THROW(validate(o), ConfigError);
}
