#include "math/shaped_sde.h"

#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/parallel.h"
#include "math/covariance.h"

namespace sigprop {
namespace {

constexpr int64_t kChunk = 512;

// M[pair_i.first or .second, pair_j.first or .second] for all vech pairs i, j: (P, D, D).
struct PairGather {
  torch::Tensor a, b;  // (D) first and second index of each vech pair
  explicit PairGather(int64_t m) {
    std::vector<int64_t> fa, fb;
    for (const auto& [x, y] : vech_pairs(m)) fa.push_back(x), fb.push_back(y);
    a = torch::tensor(fa, torch::kLong);
    b = torch::tensor(fb, torch::kLong);
  }
  torch::Tensor operator()(const torch::Tensor& M, const torch::Tensor& rows,
                           const torch::Tensor& cols) const {
    return M.index_select(1, rows).index_select(2, cols);
  }
};

// Σ_lin: the covariance rate of a Wishart increment, V_αγ V_βδ + V_αδ V_βγ.
torch::Tensor sigma_lin(const torch::Tensor& V, const PairGather& g) {
  return g(V, g.a, g.a) * g(V, g.b, g.b) + g(V, g.a, g.b) * g(V, g.b, g.a);
}

// Σ_att = V_αγ W_βδ + V_αδ W_βγ + V_βγ W_αδ + V_βδ W_αγ, W = V P V P V.
torch::Tensor sigma_att(const torch::Tensor& V, const torch::Tensor& W, const PairGather& g) {
  return g(V, g.a, g.a) * g(W, g.b, g.b) + g(V, g.a, g.b) * g(W, g.b, g.a) +
         g(V, g.b, g.a) * g(W, g.a, g.b) + g(V, g.b, g.b) * g(W, g.a, g.a);
}

torch::Tensor centering(int64_t m, const torch::TensorOptions& opt) {
  return torch::eye(m, opt) - 1.0 / double(m);  // P = I − 11ᵀ/m
}

// Per path, the mean over i ≠ j of ρ_ij: (P).
torch::Tensor per_path_mean_correlation(const torch::Tensor& V) {
  const int64_t m = V.size(-1);
  auto R = correlation_matrix(V);
  return (R.sum({-2, -1}) - R.diagonal(0, -2, -1).sum(-1)) / double(m * (m - 1));
}

}  // namespace

void validate(const ShapedParams& p) {
  if (!(p.gamma > 0.0 && p.gamma <= 1.0))
    throw ConfigError(
        fmt::format("--gamma {} is not allowed: expected a number in (0, 1] "
                    "(lambda = sqrt(1 - gamma^2))",
                    p.gamma));
  if (!(p.tau0 > 0.0))
    throw ConfigError(fmt::format("--tau0 {} is not allowed: expected a number > 0", p.tau0));
  if (!std::isfinite(p.c_plus) || !std::isfinite(p.c_minus))
    throw ConfigError("--c-plus/--c-minus must be finite numbers");
}

double shaped_relu_nu(double rho, double c_plus, double c_minus) {
  rho = std::fmax(-1.0, std::fmin(1.0, rho));
  const double k = (c_plus - c_minus) * (c_plus - c_minus) / (2.0 * M_PI);
  return k * (std::sqrt(1.0 - rho * rho) - rho * std::acos(rho));
}

torch::Tensor shaped_drift(const torch::Tensor& V, const ShapedParams& p) {
  const int64_t m = V.size(-1);
  const double g2 = p.gamma * p.gamma;
  auto b = torch::zeros_like(V);
  auto diagV = V.diagonal(0, -2, -1);  // (P, m)
  if (p.attention) {
    auto P = centering(m, V.options());
    auto Vc = torch::matmul(torch::matmul(P, V), P);
    auto diagVc = Vc.diagonal(0, -2, -1);
    auto trVc = diagVc.sum(-1, /*keepdim=*/true);
    auto u = torch::matmul(V, (diagVc - trVc / double(m)).unsqueeze(-1)).squeeze(-1);  // (P, m)
    auto fro2 = Vc.pow(2).sum({-2, -1}).view({-1, 1, 1});
    auto cross = diagV.unsqueeze(-1) * u.unsqueeze(-2) + u.unsqueeze(-1) * diagV.unsqueeze(-2);
    b = b + (g2 / (p.tau0 * p.tau0)) * (fro2 * V / double(m * m) + cross / (2.0 * m));
  }
  if (p.mlp) {
    auto rho = correlation_matrix(V).clamp(-1.0, 1.0);
    const double k = (p.c_plus - p.c_minus) * (p.c_plus - p.c_minus) / (2.0 * M_PI);
    auto nu = k * ((1.0 - rho * rho).clamp_min(0.0).sqrt() - rho * torch::acos(rho));
    auto scale = (diagV.unsqueeze(-1) * diagV.unsqueeze(-2)).clamp_min(0.0).sqrt();
    b = b + g2 * nu * scale;
  }
  return b;
}

torch::Tensor shaped_diffusion(const torch::Tensor& V, const ShapedParams& p) {
  const int64_t m = V.size(-1);
  const PairGather g(m);
  const double g2 = p.gamma * p.gamma;
  auto S = (g2 * (2.0 - g2) + (p.mlp ? 2.0 * g2 : 0.0)) * sigma_lin(V, g);
  if (p.attention) {
    auto P = centering(m, V.options());
    auto W = torch::matmul(torch::matmul(torch::matmul(torch::matmul(V, P), V), P), V);
    S = S + (g2 * g2 / (p.tau0 * p.tau0 * double(m * m))) * sigma_att(V, W, g);
  }
  return S;
}

ScalarSde linear_correlation_sde(double rho, const ShapedParams& p) {
  if (p.attention)
    throw ConfigError(
        "the closed correlation SDE holds without attention terms (attention = false)");
  const double g2 = p.gamma * p.gamma;
  const double k = g2 * (2.0 - g2) + (p.mlp ? 2.0 * g2 : 0.0);
  ScalarSde s;
  s.drift = -0.5 * k * rho * (1.0 - rho * rho) +
            (p.mlp ? g2 * shaped_relu_nu(rho, p.c_plus, p.c_minus) : 0.0);
  s.variance = k * (1.0 - rho * rho) * (1.0 - rho * rho);
  return s;
}

SdeResult simulate_shaped_sde(const SdeOptions& o) {
  validate(o.params);
  if (!o.V0.defined() || o.V0.dim() != 2 || o.V0.size(0) != o.V0.size(1) || o.V0.size(0) < 2)
    throw ConfigError("the SDE needs an initial covariance V0 of m x m tokens, m >= 2");
  if (!(o.horizon > 0.0))
    throw ConfigError(fmt::format("--t {} is not allowed: expected t > 0", o.horizon));
  if (!(o.step > 0.0 && o.step <= o.horizon))
    throw ConfigError(
        fmt::format("--h {} is not allowed: expected 0 < h <= t = {}", o.step, o.horizon));
  if (o.paths < 1)
    throw ConfigError(fmt::format("--paths {} is not allowed: expected >= 1", o.paths));
  if (!(o.blowup > 0.0)) throw ConfigError("the blow-up threshold must be > 0");

  const int64_t m = o.V0.size(0);
  const int64_t steps = std::max<int64_t>(1, int64_t(std::ceil(o.horizon / o.step - 1e-9)));
  const auto V0 = o.V0.to(torch::kDouble);
  const int64_t chunks = (o.paths + kChunk - 1) / kChunk;

  std::vector<torch::Tensor> finals(chunks);
  std::vector<std::vector<double>> rho_sum(chunks, std::vector<double>(steps + 1, 0.0));
  std::vector<std::vector<double>> alive_count(chunks, std::vector<double>(steps + 1, 0.0));

  for_each_chunk(o.paths, kChunk, [&](int64_t c, int64_t begin, int64_t end) {
    auto gen = chunk_generator(o.seed, c);
    const int64_t n = end - begin;
    const int64_t D = m * (m + 1) / 2;
    auto V = V0.expand({n, m, m}).clone();
    auto alive = torch::ones({n}, torch::kBool);
    auto record = [&](int64_t k) {
      auto r = per_path_mean_correlation(V);
      rho_sum[c][k] = torch::where(alive, r, torch::zeros_like(r)).sum().item<double>();
      alive_count[c][k] = alive.sum().item<double>();
    };
    record(0);
    for (int64_t k = 0; k < steps; ++k) {
      const double h = k + 1 < steps ? o.step : o.horizon - o.step * double(steps - 1);
      auto [evals, evecs] = torch::linalg_eigh(shaped_diffusion(V, o.params));
      auto xi = torch::randn({n, D}, gen, torch::kDouble);
      auto noise =
          torch::matmul(evecs, (evals.clamp_min(0.0).sqrt() * xi).unsqueeze(-1)).squeeze(-1);
      auto next = V + h * shaped_drift(V, o.params) + unvech(std::sqrt(h) * noise, m);
      auto ok = torch::isfinite(next).all(-1).all(-1) & (next.abs().amax({-2, -1}) <= o.blowup) &
                (next.diagonal(0, -2, -1).amin(-1) > 0.0);
      alive = alive & ok;
      V = torch::where(alive.view({n, 1, 1}), next, V);  // stopped paths stay where they were
      record(k + 1);
    }
    finals[c] = V.index({alive});
  });

  SdeResult r;
  r.V = torch::cat(finals, 0);
  r.blown_up = o.paths - r.V.size(0);
  for (int64_t k = 0; k <= steps; ++k) {
    double s = 0, a = 0;
    for (int64_t c = 0; c < chunks; ++c) s += rho_sum[c][k], a += alive_count[c][k];
    r.times.push_back(k < steps ? o.step * double(k) : o.horizon);
    r.mean_rho.push_back(a > 0 ? s / a : std::nan(""));
  }
  return r;
}

}  // namespace sigprop
