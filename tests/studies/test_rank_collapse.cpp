// Papers 000 and 002 theory beside measurement: similarity escalation in post-LN stacks and its
// removal; query/key gradients against the uniform-attention formulas with and without 1/√L.
#include <gtest/gtest.h>

#include <cmath>

#include "config/presets.h"
#include "studies/escalation/escalation_study.h"
#include "studies/gradients/gradient_study.h"

using namespace sigprop;

TEST(TheoryEscalation, PostLnContractsGeometricallyAndTheFixStopsIt) {
  EscalationOptions o;
  ModelSpec post = load_preset("post-ln"), fixed = load_preset("post-ln-simremove");
  post.width = fixed.width = 64;
  o.specs = {post, fixed};
  o.depth = 16, o.seq = 32, o.batch = 4, o.seeds = 1;
  const auto s = run_escalation_study(o);
  ASSERT_EQ(s.fits.size(), 2u);
  const auto& p = s.fits[0];
  const auto& f = s.fits[1];
  EXPECT_LT(p.rate, 0.9);                // t_div shrinks geometrically ...
  EXPECT_GT(p.log_fit.r2, 0.9);          // ... at a steady ("linear") rate
  EXPECT_NEAR(f.rate, 1.0, 0.02);        // similarity removal: no escalation
  EXPECT_GT(p.rate, p.lambda2_sq_mean);  // the skip keeps more than A alone would
  for (const auto& l : s.layers)
    if (l.layer > 0) {
      EXPECT_GT(l.lambda2, 0.0);
      EXPECT_LT(l.lambda2, 1.0 + 1e-9);  // row-stochastic A: |λ₂| ≤ 1
    }
}

TEST(TheoryGradients, UniformAttentionFormulasTrackTheMeasuredGradients) {
  GradientStudyOptions o;
  o.depths = {4, 24};
  o.width = 32, o.seq = 16, o.batch = 2, o.networks = 4;
  const auto s = run_gradient_study(o);
  ASSERT_EQ(s.rows.size(), 2u * (4 + 24));
  // With 1/√L the output gradient stays near isotropic and the formulas hold to ~20%.
  EXPECT_LT(s.agreement[1].median_log10_q, 0.08);
  EXPECT_LT(s.agreement[1].median_log10_v, 0.1);
  // Without it, rank collapse drives |∇W_Q| down by orders of magnitude; the formulas follow
  // that fall (within a factor ~10 at every layer) while |∇W_V| stays.
  double q_last = 0, q_first = 0, v_last = 0, v_first = 0;
  for (const auto& r : s.rows) {
    if (r.depth != 24 || r.scaled) continue;
    EXPECT_LT(std::fabs(std::log10(r.measured_q / r.predicted_q)), 1.0) << "layer " << r.layer;
    if (r.layer == 1) q_first = r.measured_q, v_first = r.measured_v;
    if (r.layer == 24) q_last = r.measured_q, v_last = r.measured_v;
  }
  EXPECT_LT(q_last / q_first, 1e-4);
  EXPECT_GT(v_last / v_first, 0.3);
  // The last block sees an isotropic output gradient: the formulas hold there even unscaled.
  for (const auto& r : s.rows)
    if (r.depth == 4 && r.layer == 4 && !r.scaled)
      EXPECT_NEAR(r.measured_v / r.predicted_v, 1.0, 0.3);
}
