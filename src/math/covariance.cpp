#include "math/covariance.h"

#include <limits>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"

namespace sigprop {
namespace {

// Flat indices a·m + b of the vech pairs, and of their mirror images b·m + a.
std::pair<torch::Tensor, torch::Tensor> vech_flat_indices(int64_t m) {
  std::vector<int64_t> upper, lower;
  for (const auto& [a, b] : vech_pairs(m)) {
    upper.push_back(a * m + b);
    lower.push_back(b * m + a);
  }
  return {torch::tensor(upper, torch::kLong), torch::tensor(lower, torch::kLong)};
}

}  // namespace

torch::Tensor equicorrelated(int64_t m, double rho0) {
  if (m < 2) throw ConfigError(fmt::format("--tokens {} is not allowed: need m >= 2 tokens", m));
  const double lo = -1.0 / double(m - 1);
  if (!(rho0 > lo && rho0 < 1.0))
    throw ConfigError(fmt::format(
        "--rho0 {} is not allowed: with m = {} tokens the correlation must lie in ({:.4g}, 1)",
        rho0, m, lo));
  return (1.0 - rho0) * torch::eye(m, torch::kDouble) + rho0;
}

torch::Tensor correlation_matrix(const torch::Tensor& V) {
  auto d = V.diagonal(0, -2, -1).clamp_min(std::numeric_limits<double>::min()).rsqrt();
  return V * d.unsqueeze(-1) * d.unsqueeze(-2);
}

std::vector<double> first_pair_correlation(const torch::Tensor& V) {
  auto r = correlation_matrix(V.to(torch::kDouble)).select(-2, 0).select(-1, 1).contiguous();
  return std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
}

double mean_offdiagonal_correlation(const torch::Tensor& V) {
  if (V.size(0) == 0) return std::numeric_limits<double>::quiet_NaN();
  const int64_t m = V.size(-1);
  auto R = correlation_matrix(V.to(torch::kDouble));
  const double off = (R.sum({-2, -1}) - R.diagonal(0, -2, -1).sum(-1)).mean().item<double>();
  return off / double(m * (m - 1));
}

torch::Tensor psd_sqrt(const torch::Tensor& S) {
  auto [evals, evecs] = torch::linalg_eigh(S);
  return torch::matmul(evecs * evals.clamp_min(0.0).sqrt().unsqueeze(-2), evecs.transpose(-2, -1));
}

torch::Tensor square_root_factor(const torch::Tensor& V) {
  auto [L, info] = torch::linalg_cholesky_ex(V);
  if ((info != 0).any().item<bool>()) return psd_sqrt(V);
  return L;
}

std::vector<std::pair<int64_t, int64_t>> vech_pairs(int64_t m) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t a = 0; a < m; ++a)
    for (int64_t b = a; b < m; ++b) pairs.emplace_back(a, b);
  return pairs;
}

torch::Tensor vech(const torch::Tensor& V) {
  const auto [upper, lower] = vech_flat_indices(V.size(-1));
  return V.flatten(-2).index_select(-1, upper.to(V.device()));
}

torch::Tensor unvech(const torch::Tensor& v, int64_t m) {
  const auto [upper, lower] = vech_flat_indices(m);
  auto flat = torch::zeros({v.size(0), m * m}, v.options());
  flat.index_copy_(1, lower.to(v.device()), v);
  flat.index_copy_(1, upper.to(v.device()), v);  // the diagonal is in both; same value
  return flat.view({v.size(0), m, m});
}

}  // namespace sigprop
