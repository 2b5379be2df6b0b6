// Signal-Preserving Attention (He et al. 2023, paper 001): attention matrices chosen so that a
// skipless attention-only stack X_l = A_l X_{l-1} W_V W_O with orthogonal W_V, W_O follows a
// prescribed kernel path Σ_0 = I, Σ_1, ..., Σ_L (Σ_l = A_l Σ_{l-1} A_l^T). All float64.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace sigprop {

// E-SPA target: (Σ)_ij = exp(−γ|i−j|); γ = +inf gives I.
torch::Tensor espa_kernel(int64_t T, double gamma);
// U-SPA target: Σ = (1−ρ) I + ρ 1 1^T.
torch::Tensor uspa_kernel(int64_t T, double rho);

// γ_l = −½·log(1 − (1 − e^{−2γ_L})^{l/L}), so s_l = √(1−e^{−2γ_l}) = s_L^{l/L}; γ_0 = +inf.
double espa_gamma_schedule(int l, int L, double gamma_L);
// 1 − ρ_l = (1 − ρ_L)^{l/L} [docs/methods.md: a guess of the same shape as E-SPA's]; ρ_0 = 0.
double uspa_rho_schedule(int l, int L, double rho_L);

// A_l = L_l L_{l−1}^{−1} with Cholesky factors (causal: lower triangular), or
// A_l = Σ_l^{1/2} Σ_{l−1}^{−1/2} with symmetric square roots (bidirectional).
torch::Tensor spa_attention(const torch::Tensor& sigma_prev, const torch::Tensor& sigma,
                            bool causal);

// E-SPA causal A_l in closed form (docs/methods.md, derived), a test oracle for spa_attention:
// a = e^{−γ}, s = √(1−a²), primes for the previous layer; A_11 = 1, A_ii = s/s',
// A_i1 = a^{i−2}(a − (s/s')a'), A_ij = (s/s')a^{i−j}(1 − a'/a) for 2 ≤ j < i (1-based).
torch::Tensor espa_closed_form(int64_t T, double gamma_prev, double gamma);

// The softmax realisation A = D · softmax(logits + B): D = diag(row sums of A),
// B = log(D^{−1} A) (−inf where A is 0). Throws ConfigError naming `what` and the most negative
// entry when A has negative entries (softmax cannot produce them).
struct SoftmaxRealisation {
  torch::Tensor bias;   // (T, T)
  torch::Tensor scale;  // (T, 1) row sums
};
SoftmaxRealisation softmax_realisation(const torch::Tensor& A, const std::string& what);

}  // namespace sigprop
