// `sigprop predict` (studies/predict): the kernel recursion against independent computations
// (Monte Carlo of the activation kernels written out here) and against the probe of sampled
// networks, where the theory is exact (input-independent attention) and where it is a Monte
// Carlo over the logits' law (softmax).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include "config/presets.h"
#include "core/error.h"
#include "studies/predict/predict.h"
#include "studies/predict/predict_study.h"

using namespace sigprop;

namespace {

// Mean off-diagonal correlation and 1ᵀΣ1/(T trΣ) of a kernel: what the recursion reports.
std::pair<double, double> cosine_tsim(const torch::Tensor& S) {
  const auto d = S.diagonal().rsqrt();
  const auto C = S * d.unsqueeze(1) * d.unsqueeze(0);
  const int64_t T = S.size(0);
  return {(C.sum().item<double>() - T) / double(T * (T - 1)), S.sum().item<double>() / T / S.trace().item<double>()};
}

// One block that is only its MLP: no norm, no skip, A = I (Value-SkipInit at init), orthogonal
// weights (per-unit gains exactly 1), so Σ₁ = E[φ(u)φ(v)] with (u, v) ~ N(0, Σ₀).
ModelSpec mlp_only(Activation phi) {
  ModelSpec s;
  s.depth = 1, s.width = 64, s.heads = 1, s.mlp_width = 256;
  s.activation = phi;
  s.norm = NormPlace::None;
  s.residual.kind = ResidualScale::Kind::None;
  s.attention = "value_skipinit";
  s.causal = false;
  s.init = InitKind::Orthogonal;
  s.input = InputKind::Raw;
  s.positional = Positional::None;
  return s;
}

}  // namespace

TEST(Predict, ActivationKernelsAgreeWithMonteCarlo) {
  // A correlated 4-token kernel with unequal norms.
  const auto sigma0 = torch::tensor({{1.0, 0.6, 0.2, -0.3}, {0.6, 2.0, 0.5, 0.1}, {0.2, 0.5, 0.5, 0.0},
                                     {-0.3, 0.1, 0.0, 1.5}}, torch::kFloat64);
  const KernelInput in{sigma0.unsqueeze(0), torch::eye(4, torch::kFloat64).unsqueeze(0)};
  auto gen = at::detail::createCPUGenerator(11);
  const auto z = torch::randn({2000000, 4}, gen, torch::kFloat64).matmul(torch::linalg_cholesky(sigma0).t());
  for (auto [kind, phi] : {std::pair{Activation::ReLU, torch::relu(z)}, std::pair{Activation::GELU, torch::gelu(z)}}) {
    const auto trace = predict_trace(mlp_only(kind), in, {}, PredictOptions{});
    const auto [cos, tsim] = cosine_tsim(phi.t().matmul(phi) / double(z.size(0)));
    EXPECT_NEAR(trace.cosine[1][0].item<double>(), cos, 3e-3);
    EXPECT_NEAR(trace.t_sim[1][0].item<double>(), tsim, 3e-3);
    // The check can fail: the kernel without its nonlinearity is far from it.
    EXPECT_GT(std::abs(cosine_tsim(sigma0).first - cos), 0.05);
    EXPECT_TRUE(trace.exact[0]);
  }
}

TEST(Predict, InputIndependentAttentionIsExactAgainstTheProbeAtWidth1024) {
  // Pre-LN and post-LN with uniform attention: nothing of the recursion is a Monte Carlo.
  PredictStudyOptions o;
  for (const char* preset : {"pre-ln", "post-ln"}) {
    auto s = load_preset(preset);
    s.attention = "uniform", s.depth = 8;
    o.specs.push_back(s);
  }
  o.input = ProbeInput::Gaussian, o.seq = 16, o.batch = 2, o.seeds = 2;
  o.compare_widths = {1024};
  const auto study = run_predict_study(o);
  ASSERT_EQ(study.curves.size(), 2u);
  for (const auto& c : study.curves) {
    for (size_t l = 0; l < c.predicted.size(); ++l) {
      EXPECT_TRUE(c.predicted[l].exact);
      EXPECT_NEAR(c.predicted[l].cosine, c.measured[l].cosine, 0.03) << c.spec << " layer " << l;
      EXPECT_NEAR(c.predicted[l].t_sim, c.measured[l].t_sim, 0.03) << c.spec << " layer " << l;
    }
  }
  // The comparison can fail: the two models' final cosines are further apart than the tolerance.
  EXPECT_GT(std::abs(study.curves[0].predicted.back().cosine - study.curves[1].predicted.back().cosine), 0.1);
}

TEST(Predict, SoftmaxByMonteCarloAgreesWithTheProbe) {
  PredictStudyOptions o;
  auto s = load_preset("post-ln");
  s.depth = 6;
  o.specs = {s};
  o.seq = 32, o.batch = 1, o.seeds = 6;
  o.compare_widths = {512};
  const auto study = run_predict_study(o);
  const auto& c = study.curves.at(0);
  for (size_t l = 0; l < c.predicted.size(); ++l) {
    EXPECT_NEAR(c.predicted[l].cosine, c.measured[l].cosine, 0.03) << "layer " << l;
    if (l == 0) continue;
    EXPECT_FALSE(c.predicted[l].exact);
    EXPECT_NEAR(c.predicted[l].entropy, c.measured[l].entropy, 0.05) << "layer " << l;
    EXPECT_NEAR(std::log10(c.predicted[l].grad_q_over_v), c.measured[l].log10_ratio, 0.3) << "layer " << l;
  }
}

TEST(Predict, MapsShowRankAndEntropyCollapseAndRefuseWhatTheyCannotVary) {
  PredictStudyOptions o;
  auto s = load_preset("post-ln");
  s.depth = 12;
  o.specs = {s};
  o.seeds = 1, o.batch = 1, o.seq = 16;
  o.map = true, o.map_size = 6, o.map_check = 3, o.map_check_width = 256;
  const auto study = run_predict_study(o);
  const auto& m = study.maps.at(0);
  // X + α f(X): a heavier branch collapses the tokens; larger logits concentrate attention.
  EXPECT_GT(m.cosine.back()[2], m.cosine.front()[2] + 0.3);
  EXPECT_LT(m.entropy[2].back(), m.entropy[2].front() - 0.3);
  // The probed cells (W_Q scaled by the logit multiplier): the query/value gradient ratio where it
  // is above float32's floor of the probe, and the final cosine.
  ASSERT_EQ(m.checks.size(), 9u);
  for (const auto& c : m.checks) {
    EXPECT_NEAR(c.predicted_cosine, c.measured_cosine, 0.05) << c.alpha << " " << c.logit;
    if (c.predicted_log10_ratio > -3)
      EXPECT_NEAR(c.predicted_log10_ratio, c.measured_log10_ratio, 0.3) << c.alpha << " " << c.logit;
  }
  // The depth × α map ends at the same layer as the α × logit map at logit 1 (a column of both).
  EXPECT_EQ(m.depth_cosine.size(), size_t(s.depth + 1));

  o.specs = {load_preset("shaped")};
  try {
    run_predict_study(o);
    FAIL() << "a λ/γ residual cannot be mapped over α alone";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.residual"), std::string::npos) << e.what();
  }
}

TEST(Predict, SameSeedSameNumbersAndOptionsChecked) {
  auto s = load_preset("pre-ln");
  s.depth = 3, s.width = 32, s.input = InputKind::Raw;
  const KernelInput in{torch::eye(8, torch::kFloat64).unsqueeze(0), torch::eye(8, torch::kFloat64).unsqueeze(0)};
  const auto a = predict_layers(s, in, PredictOptions{});
  const auto b = predict_layers(s, in, PredictOptions{});
  for (size_t l = 0; l < a.size(); ++l) EXPECT_EQ(a[l].cosine, b[l].cosine);
  // One head on one path of one sequence is still a Monte Carlo draw; zero queries are not.
  auto one = s;
  one.heads = 1;
  PredictOptions single;
  single.paths = 1;
  EXPECT_FALSE(predict_trace(one, in, {}, single).exact[0]);
  one.zero_queries = true;
  EXPECT_TRUE(predict_trace(one, in, {}, single).exact[0]);
  PredictOptions bad;
  bad.paths = 0;
  EXPECT_THROW(predict_layers(s, in, bad), ConfigError);
}

TEST(Predict, EveryPresetAndAttentionVariantHasItsRule) {
  const KernelInput in{torch::eye(8, torch::kFloat64).unsqueeze(0), torch::eye(8, torch::kFloat64).unsqueeze(0)};
  PredictOptions o;
  o.paths = 1;
  for (const auto& name : preset_names()) {
    auto s = load_preset(name);
    s.depth = 13, s.width = 32, s.heads = 2, s.input = InputKind::Raw;  // TAT presets need 13 for η = 0.9
    s.mlp_width = s.mlp_width > 0 ? 64 : 0;
    const auto rows = predict_layers(s, in, o);
    ASSERT_EQ(rows.size(), 14u) << name;
    for (const auto& r : rows) EXPECT_TRUE(std::isfinite(r.cosine)) << name << " layer " << r.layer;
  }
  for (const auto& variant : attention_variant_names()) {
    auto s = load_preset("pre-ln");
    s.attention = variant;
    EXPECT_EQ(unpredictable(s), "") << variant;
  }
  auto s = load_preset("pre-ln");
  s.attention = "no-such-variant";
  EXPECT_NE(unpredictable(s).find("model.attention"), std::string::npos);
}
