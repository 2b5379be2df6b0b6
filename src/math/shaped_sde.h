// The covariance SDE of the shaped transformer (Noci, Li, Li, He, Hofmann, Maddison & Roy 2023,
// paper 004), and its Euler–Maruyama integration over many paths.
//
// For m tokens of width n, V = Y Yᵀ/n follows, in t = layer/n, dV = b(V) dt + Σ(V)^{1/2} dB with
// (docs/methods.md 004, derived; P = I − 11ᵀ/m, V^c = PVP, W = VPVPV, u = V(diag V^c − (tr V^c/m)·1)):
//   attention drift  b_att = (γ²/τ₀²)[(1/m²)|V^c|_F² V + (1/(2m))(diag(V) uᵀ + u diag(V)ᵀ)],
//   diffusion        Σ = γ²(2−γ²) Σ_lin + (γ⁴/(τ₀² m²)) Σ_att,
//                    Σ_lin[αβ,γδ] = V_αγ V_βδ + V_αδ V_βγ,
//                    Σ_att[αβ,γδ] = V_αγ W_βδ + V_αδ W_βγ + V_βγ W_αδ + V_βδ W_αγ,
//   shaped-ReLU MLP  b_mlp = γ² ν(ρ_αβ) √(V_αα V_ββ), ν(ρ) = ((c₊−c₋)²/(2π))(√(1−ρ²) − ρ arccos ρ),
//                    adding 2γ² Σ_lin to the diffusion.
// Σ acts on vech(V) (covariance.h). The first two come from expanding the shaped softmax to
// second order in its O(n^{-1/2}) logits; the MLP terms from the shaped ReLU's kernel.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace sigprop {

struct ShapedParams {
  double gamma = 0.35355339059327373;  // branch weight γ (λ = √(1 − γ²)); 1/√8 as in docs/methods.md
  double tau0 = 1.0;                   // attention temperature τ₀ (τ = τ₀√(n n_k))
  bool attention = true;               // false: drop the attention terms (the control)
  bool mlp = false;                    // add a shaped-ReLU MLP sublayer per block
  double c_plus = 0.0, c_minus = -1.0;  // shaped ReLU s± = 1 + c±/√n [guess: defaults]
};
// Throws ConfigError naming the option: γ in (0, 1], τ₀ > 0.
void validate(const ShapedParams& p);

// b(V): (P, m, m) float64 -> (P, m, m).
torch::Tensor shaped_drift(const torch::Tensor& V, const ShapedParams& p);
// Σ(V): (P, m, m) float64 -> (P, D, D), D = m(m+1)/2, vech order.
torch::Tensor shaped_diffusion(const torch::Tensor& V, const ShapedParams& p);

// ν(ρ) of the shaped ReLU (above): the MLP's correlation drift per unit γ².
double shaped_relu_nu(double rho, double c_plus, double c_minus);

// Without attention terms the correlation ρ of two tokens is itself a diffusion (Itô's formula on
// ρ = V₁₂/√(V₁₁V₂₂) with d⟨V_αβ, V_γδ⟩ = k Σ_lin dt):
//   dρ = [γ² ν(ρ)·[mlp] − (k/2) ρ (1 − ρ²)] dt + √k (1 − ρ²) dB,  k = γ²(2−γ²) + 2γ²·[mlp].
// Returns the drift and the variance rate. Throws ConfigError when p.attention is on.
struct ScalarSde {
  double drift = 0, variance = 0;
};
ScalarSde linear_correlation_sde(double rho, const ShapedParams& p);

struct SdeOptions {
  ShapedParams params;
  torch::Tensor V0;       // (m, m) initial covariance, float64 (e.g. equicorrelated(m, ρ₀))
  double horizon = 0.75;  // t = depth/width
  double step = 0.01;     // h; the last step is shortened to land on t
  int64_t paths = 4096;
  uint64_t seed = 0;
  double blowup = 1e4;  // a path stops when max|V_ij| > blowup, V is not finite, or V_ii ≤ 0
};

struct SdeResult {
  torch::Tensor V;               // (surviving paths, m, m) at t
  std::vector<double> times;     // 0, h, 2h, ..., t
  std::vector<double> mean_rho;  // mean off-diagonal correlation of the paths alive at each time
  int64_t blown_up = 0;          // paths stopped before t
};

// Euler–Maruyama: vech(V) += b h + √h Σ^{1/2} ξ, ξ ~ N(0, I_D), with Σ = QΛQᵀ by symmetric
// eigendecomposition and negative eigenvalues clipped (docs/methods.md); the increment is drawn as
// Q max(Λ, 0)^{1/2} ξ, equal in law to the symmetric root's Q max(Λ, 0)^{1/2} Qᵀ ξ. Paths run in
// chunks of 512 across threads, each chunk with its own generator: same seed, same numbers.
SdeResult simulate_shaped_sde(const SdeOptions& o);

}  // namespace sigprop
