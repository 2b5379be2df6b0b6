// Paper 004 (Noci et al. 2023): the covariance SDE of the shaped transformer against finite
// networks. One-step moments of finite networks against the drift b and diffusion Σ; the
// attention-free correlation SDE against its closed form; the three finite samplers against
// each other; docs/methods.md's reference numbers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"
#include "model/transformer.h"
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

// The study's full-weight networks are sigprop's own shaped transformer: the same N(0, 1)
// weights, written into the model as W/√n (W_O = I, biases 0: the study's block has neither),
// and the same Y₀ give the same covariance after every block, to float32 rounding.
TEST(TheorySde, FullWeightNetworkIsTheModelsShapedTransformer) {
  const int64_t m = 5, n = 16, nk = 8, depth = 3;
  torch::manual_seed(21);
  const auto Y0 = torch::randn({m, n}, torch::kDouble);
  FiniteOptions o;
  o.params.gamma = 0.6, o.params.tau0 = 0.7, o.params.mlp = true;
  o.params.c_plus = 0.5, o.params.c_minus = -1.5;
  o.sampler = FiniteSampler::Full, o.width = n, o.key_width = nk, o.depth = depth, o.networks = 1;
  o.Y0 = Y0, o.V0 = torch::matmul(Y0, Y0.t()) / double(n);
  std::vector<torch::Tensor> weights;  // W_V, W_K, W_Q, W₁, W₂ per block, as the study asks
  o.full_weights = [&](int64_t c, int64_t rows, int64_t cols) {
    weights.push_back(torch::randn({c, rows, cols}));
    return weights.back();
  };
  const auto study = simulate_shaped_networks(o);
  ASSERT_EQ(weights.size(), size_t(5 * depth));

  ModelSpec spec = load_preset("shaped");
  for (const char* set : {"input=raw", "positional=none", "norm=none", "causal=false", "heads=1",
                          "residual=lambda_gamma", "activation=shaped_relu"})
    apply_override(spec, set);
  spec.depth = depth, spec.width = n, spec.d_k = nk, spec.mlp_width = n;
  spec.residual_gamma = o.params.gamma, spec.shaped_tau0 = o.params.tau0;
  spec.shaped_c_plus = o.params.c_plus, spec.shaped_c_minus = o.params.c_minus;
  Transformer model(spec);
  {
    torch::NoGradGuard no_grad;
    const auto as_weight = [&](const torch::Tensor& W) { return (W[0] / std::sqrt(double(n))).t(); };
    for (int64_t l = 0; l < depth; ++l) {
      auto* b = model->blocks[l]->as<BlockImpl>();
      b->attn->w_v->weight.copy_(as_weight(weights[5 * l + 0]));
      b->attn->w_k->weight.copy_(as_weight(weights[5 * l + 1]));
      b->attn->w_q->weight.copy_(as_weight(weights[5 * l + 2]));
      b->attn->w_o->weight.copy_(torch::eye(n));
      b->mlp->fc1->weight.copy_(as_weight(weights[5 * l + 3]));
      b->mlp->fc2->weight.copy_(as_weight(weights[5 * l + 4]));
      b->mlp->fc1->bias.zero_();
      b->mlp->fc2->bias.zero_();
    }
  }
  ForwardTrace trace;
  const auto Y = model->forward(Y0.to(torch::kFloat).unsqueeze(0), &trace).detach()[0].to(torch::kDouble);
  const auto V = torch::matmul(Y, Y.t()) / double(n);
  const double err = (V - study.V[0]).abs().max().item<double>();
  EXPECT_LT(err, 1e-4 * (1.0 + V.abs().max().item<double>())) << "max |V_model - V_study| = " << err;
  // The same per block: the study's mean token correlation against the model's hidden states.
  ASSERT_EQ(study.mean_rho.size(), size_t(depth + 1));
  for (int64_t l = 0; l <= depth; ++l) {
    const auto H = trace.hidden[l].detach()[0].to(torch::kDouble);
    const auto C = torch::matmul(H, H.t());
    const auto d = C.diagonal().sqrt();
    const auto R = C / torch::outer(d, d);
    const double mean_rho = ((R.sum() - R.diagonal().sum()) / double(m * (m - 1))).item<double>();
    EXPECT_NEAR(mean_rho, study.mean_rho[l], 1e-4) << "block " << l;
  }
}
