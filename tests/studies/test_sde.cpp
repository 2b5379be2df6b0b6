// Paper 004 (Noci et al. 2023): the covariance SDE of the shaped transformer against finite
// networks. One-step moments of finite networks against the drift b and diffusion Σ; the
// attention-free correlation SDE against its closed form; the three finite samplers against
// each other; docs/methods.md's reference numbers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "math/covariance.h"
#include "studies/sde/shaped_finite.h"
#include "math/shaped_sde.h"
#include "math/stats.h"

using namespace sigprop;

namespace {

// A generic 3-token covariance: unequal norms, positive and negative correlations.
torch::Tensor generic_V() {
  return torch::tensor({{1.3, 0.4, -0.2}, {0.4, 0.8, 0.1}, {-0.2, 0.1, 1.1}}, torch::kDouble);
}

struct Moments {
  torch::Tensor mean, mean_se, cov;  // of vech(ΔV)·n: (D), (D), (D, D)
};

// n·E[ΔV] and n·Cov[ΔV] over `networks` one-block finite networks started at V0.
Moments one_block_moments(const ShapedParams& p, FiniteSampler sampler, int64_t n, int64_t networks,
                          uint64_t seed) {
  FiniteOptions o;
  o.params = p, o.sampler = sampler, o.V0 = generic_V(), o.width = n, o.depth = 1;
  o.networks = networks, o.seed = seed;
  auto dV = vech(simulate_shaped_networks(o).V - o.V0) * double(n);  // (N, D)
  Moments mo;
  mo.mean = dV.mean(0);
  mo.mean_se = dV.std(0) / std::sqrt(double(networks));
  auto c = dV - mo.mean;
  mo.cov = torch::matmul(c.t(), c) / double(networks - 1) / double(n);  // n·Cov[ΔV]
  return mo;
}

void expect_moments_match(const ShapedParams& p, FiniteSampler sampler, int64_t n,
                          int64_t networks) {
  const auto V0 = generic_V().unsqueeze(0);
  const auto b = vech(shaped_drift(V0, p))[0];
  const auto S = shaped_diffusion(V0, p)[0];
  const auto mo = one_block_moments(p, sampler, n, networks, 11);
  // Drift: within 4 Monte Carlo standard errors plus the O(1/n) finite-width bias (5% of |b|).
  const double bmax = b.abs().max().item<double>();
  for (int64_t i = 0; i < b.size(0); ++i)
    EXPECT_NEAR(mo.mean[i].item<double>(), b[i].item<double>(),
                4 * mo.mean_se[i].item<double>() + 0.05 * bmax)
        << "drift entry " << i << " (" << to_string(sampler) << ", n = " << n << ")";
  // Diffusion: every entry within 6% of the largest, which is well outside sampling error
  // (relative standard error of a covariance ~ √(2/N)) but catches any missing term.
  const double smax = S.abs().max().item<double>();
  EXPECT_LT((mo.cov - S).abs().max().item<double>(), 0.06 * smax) << "n Cov[dV]:\n"
                                                                  << mo.cov << "\nSigma:\n"
                                                                  << S;
}

}  // namespace

TEST(TheorySde, OneStepMomentsOfFiniteNetworksMatchDriftAndDiffusion) {
  ShapedParams p;
  p.gamma = 0.6, p.tau0 = 0.4;  // strong attention terms, so a missing one would show
  expect_moments_match(p, FiniteSampler::Gram, 64, 100000);
  expect_moments_match(p, FiniteSampler::Reduced, 64, 20000);
}

TEST(TheorySde, OneStepMomentsWithShapedReluMlp) {
  ShapedParams p;
  // c₊ = −c₋ keeps the finite-width bias O(1/n): the MLP's exact one-step mean carries the
  // factor c = 2/(s₊² + s₋²) = 1 − (c₊ + c₋)/√n + O(1/n).
  p.gamma = 0.6, p.tau0 = 0.4, p.mlp = true, p.c_plus = 2.0, p.c_minus = -2.0;
  expect_moments_match(p, FiniteSampler::Gram, 128, 50000);
}

TEST(TheorySde, AttentionTermsAreVisibleInTheMoments) {
  // The check above must be able to fail: without the attention terms the same finite
  // networks disagree with b.
  ShapedParams p;
  p.gamma = 0.6, p.tau0 = 0.4;
  ShapedParams control = p;
  control.attention = false;
  const auto V0 = generic_V().unsqueeze(0);
  const auto mo = one_block_moments(p, FiniteSampler::Gram, 64, 100000, 12);
  const auto b_control = vech(shaped_drift(V0, control))[0];  // zero
  EXPECT_GT(((mo.mean - b_control).abs() / mo.mean_se).max().item<double>(), 10.0);
}

TEST(TheorySde, LinearCorrelationSdeMatchesItsClosedForm) {
  // Without attention, one Euler–Maruyama step of the matrix SDE moves ρ = V₀₁/√(V₀₀V₁₁) with
  // mean drift·h and variance variance·h (Itô), whatever the token norms.
  for (bool mlp : {false, true}) {
    ShapedParams p;
    p.gamma = 0.7, p.attention = false, p.mlp = mlp, p.c_plus = 0.5, p.c_minus = -2.5;
    const double rho = 0.55, h = 1e-3;
    SdeOptions o;
    o.params = p;
    o.V0 = torch::tensor({{2.0, rho * std::sqrt(2.0 * 0.7)}, {rho * std::sqrt(2.0 * 0.7), 0.7}},
                         torch::kDouble);
    o.horizon = h, o.step = h, o.paths = 400000, o.seed = 5;
    const auto r = first_pair_correlation(simulate_shaped_sde(o).V);
    double mean = 0, var = 0;
    for (double x : r) mean += x - rho;
    mean /= r.size();
    for (double x : r) var += (x - rho - mean) * (x - rho - mean);
    var /= (r.size() - 1);
    const auto closed = linear_correlation_sde(rho, p);
    const double se = std::sqrt(var / r.size());
    EXPECT_NEAR(mean / h, closed.drift, 4 * se / h + 0.02 * std::fabs(closed.drift))
        << "mlp " << mlp;
    EXPECT_NEAR(var / h, closed.variance, 0.02 * closed.variance) << "mlp " << mlp;
  }
}

TEST(TheorySde, ReproducesTheMethodsReference) {
  // docs/methods.md 004: γ = 1/√8, τ₀ = 1, t = 0.75, ρ₀ = 0.2, m = 2, 4096 paths: mean 0.187, sd 0.370.
  SdeOptions o;
  o.V0 = equicorrelated(2, 0.2);
  o.paths = 4096;
  const auto r = simulate_shaped_sde(o);
  const auto s = summarize(first_pair_correlation(r.V));
  EXPECT_NEAR(s.mean, 0.187, 0.02);
  EXPECT_NEAR(s.sd, 0.370, 0.02);
  EXPECT_EQ(r.blown_up, 0);
  EXPECT_EQ(r.times.size(), 76u);
  EXPECT_NEAR(r.mean_rho.front(), 0.2, 1e-12);
}

TEST(TheorySde, SamplersAreEqualInLaw) {
  // full weights, chol(V)·Z and the Gram chain: same (ρ₀₁, V₀₀) law after 12 blocks at n = 24.
  FiniteOptions o;
  o.params.gamma = 0.6, o.params.tau0 = 0.5, o.params.mlp = true;
  o.V0 = generic_V(), o.width = 24, o.key_width = 8, o.depth = 12, o.networks = 3000;
  std::vector<std::vector<double>> rho, norm;
  for (auto s : {FiniteSampler::Full, FiniteSampler::Reduced, FiniteSampler::Gram}) {
    o.sampler = s, o.seed = 100 + rho.size();
    auto V = simulate_shaped_networks(o).V;
    rho.push_back(first_pair_correlation(V));
    auto v00 = V.select(1, 0).select(1, 0).contiguous();
    norm.emplace_back(v00.data_ptr<double>(), v00.data_ptr<double>() + v00.numel());
  }
  // Six comparisons: each at level 0.001 (Bonferroni), so a correct sampler fails < 1% of seeds.
  const double crit = ks_critical(3000, 3000, 0.001);
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = i + 1; j < 3; ++j) {
      EXPECT_LT(ks_two_sample(rho[i], rho[j]), crit) << i << " vs " << j;
      EXPECT_LT(ks_two_sample(norm[i], norm[j]), crit) << i << " vs " << j;
    }
  // ... and the check can fail: a different width is detected.
  o.sampler = FiniteSampler::Gram, o.width = 6, o.seed = 7;
  EXPECT_GT(ks_two_sample(rho[2], first_pair_correlation(simulate_shaped_networks(o).V)), crit);
}

TEST(TheorySde, UnshapedSoftmaxCollapses) {
  FiniteOptions o;
  o.V0 = equicorrelated(2, 0.2), o.width = 200, o.depth = 150, o.networks = 512;
  o.shape = AttentionShape::Softmax;
  const auto s = summarize(first_pair_correlation(simulate_shaped_networks(o).V));
  EXPECT_GT(s.q10, 0.999);
  o.shape = AttentionShape::Shaped;
  EXPECT_LT(summarize(first_pair_correlation(simulate_shaped_networks(o).V)).mean, 0.5);
}

TEST(TheorySde, BadOptionsNameTheOption) {
  auto expect_error = [](auto fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error for " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([] { equicorrelated(2, 1.0); }, "--rho0");
  expect_error([] { equicorrelated(1, 0.0); }, "--tokens");
  expect_error([] { parse_finite_sampler("exact"); }, "full | reduced | gram");
  expect_error(
      [] {
        SdeOptions o;
        o.V0 = equicorrelated(2, 0.2), o.params.gamma = 1.5;
        simulate_shaped_sde(o);
      },
      "--gamma");
  expect_error(
      [] {
        FiniteOptions o;
        o.V0 = equicorrelated(4, 0.2), o.width = 4;
        simulate_shaped_networks(o);
      },
      "--width");
}
