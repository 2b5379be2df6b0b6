#include "math/spa.h"

#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"

namespace sigprop {
namespace {

torch::Tensor sym_power(const torch::Tensor& S, double power) {
  auto [evals, evecs] = torch::linalg_eigh(S);
  return torch::matmul(evecs * evals.clamp_min(1e-300).pow(power).unsqueeze(0), evecs.t());
}

}  // namespace

torch::Tensor espa_kernel(int64_t T, double gamma) {
  if (std::isinf(gamma)) return torch::eye(T, torch::kDouble);
  auto i = torch::arange(T, torch::kDouble);
  return torch::exp(-gamma * (i.unsqueeze(0) - i.unsqueeze(1)).abs());
}

torch::Tensor uspa_kernel(int64_t T, double rho) {
  return (1.0 - rho) * torch::eye(T, torch::kDouble) + rho * torch::ones({T, T}, torch::kDouble);
}

double espa_gamma_schedule(int l, int L, double gamma_L) {
  if (l == 0) return std::numeric_limits<double>::infinity();
  const double s2 = std::pow(1.0 - std::exp(-2.0 * gamma_L), double(l) / L);
  return -0.5 * std::log(1.0 - s2);
}

double uspa_rho_schedule(int l, int L, double rho_L) {
  return 1.0 - std::pow(1.0 - rho_L, double(l) / L);
}

torch::Tensor spa_attention(const torch::Tensor& sigma_prev, const torch::Tensor& sigma,
                            bool causal) {
  if (causal) {
    auto L_prev = torch::linalg_cholesky(sigma_prev), L = torch::linalg_cholesky(sigma);
    // A = L L_prev^{-1}: solve A L_prev = L, i.e. L_prev^T A^T = L^T.
    auto At = torch::linalg_solve_triangular(L_prev.t(), L.t(), /*upper=*/true);
    return At.t().tril();
  }
  return torch::matmul(sym_power(sigma, 0.5), sym_power(sigma_prev, -0.5));
}

torch::Tensor espa_closed_form(int64_t T, double gamma_prev, double gamma) {
  const double a = std::exp(-gamma), s = std::sqrt(1.0 - a * a);
  const double ap = std::isinf(gamma_prev) ? 0.0 : std::exp(-gamma_prev);
  const double sp = std::sqrt(1.0 - ap * ap), r = s / sp;
  auto A = torch::zeros({T, T}, torch::kDouble);
  auto p = A.accessor<double, 2>();
  p[0][0] = 1.0;
  for (int64_t i = 1; i < T; ++i) {  // 0-based i here is 1-based i+1 in the formula
    p[i][i] = r;
    p[i][0] = std::pow(a, double(i - 1)) * (a - r * ap);
    for (int64_t j = 1; j < i; ++j) p[i][j] = r * std::pow(a, double(i - j)) * (1.0 - ap / a);
  }
  return A;
}

SoftmaxRealisation softmax_realisation(const torch::Tensor& A, const std::string& what) {
  const double min_entry = A.min().item<double>();
  if (min_entry < -1e-10)
    throw ConfigError(fmt::format(
        "{} has a negative entry ({:.3g}); softmax attention cannot produce it. For U-SPA, ρ_l "
        "must be non-decreasing in l (uspa_rho in [0, 1)); for bidirectional E-SPA use causal = true",
        what, min_entry));
  auto Ac = A.clamp_min(0.0);
  auto rows = Ac.sum(-1, /*keepdim=*/true);
  return {torch::log(Ac / rows), rows};  // log 0 = -inf: masked like a causal mask
}

}  // namespace sigprop
