// Finite shaped transformers at initialisation (Noci, Li, Li, He, Hofmann, Maddison & Roy 2023,
// paper 004), many networks at once, to set beside the covariance SDE of math/shaped_sde.h.
//
// One block on m tokens of width n (Y: m × n, N(0, 1) weights, λ² + γ² = 1):
//   attention  Y ← λY + γ·A·(Y W_V/√n),  A = I + softmax(q kᵀ/τ) − 11ᵀ/m,  τ = τ₀√(n n_k),
//              q = Y W_Q/√n, k = Y W_K/√n (n × n_k weights) — the convention that makes the
//              depth-and-width limit exist (docs/methods.md 004);
//   MLP (opt.) Y ← λY + γ√(c/n)·σ_s(Y W₁/√n)·W₂,  σ_s(x) = s₊max(x,0) + s₋min(x,0),
//              s± = 1 + c±/√n, c = 2/(s₊² + s₋²).
// The unshaped control uses A = softmax(q kᵀ/√n_k) (standard temperature, no I − 11ᵀ/m): its
// tokens collapse. With ShapedParams::attention off, A = I (a linear residual network).
//
// Three samplers, equal in law (each is exact, none is an approximation):
//   full     the weights themselves: O(n²) random numbers per block;
//   reduced  given Y, Y W/√n has i.i.d. N(0, V) columns, V = YYᵀ/n, so it is drawn as R·Z with
//            R Rᵀ = V and Z an m × n Gaussian matrix (docs/methods.md's chol(V)·Z): O(mn) per block;
//   gram     the chain V_l alone, O(m²) per block: writing Y = √n·R·O (O with orthonormal
//            rows), Y W_V/√n = R·Ξ with Ξ = O W_V i.i.d., and ΞΞᵀ = MMᵀ + S with M = Ξ Oᵀ
//            (m × m Gaussian) independent of S ~ Wishart_m(n − m, I), so
//              V' = λ²V + (λγ/√n)(R Mᵀ (AR)ᵀ + AR M Rᵀ) + (γ²/n)·AR (MMᵀ + S) (AR)ᵀ;
//            the logits are R·(Ξ_q Ξ_kᵀ)·Rᵀ/τ with Ξ_q Ξ_kᵀ = B·H in law (B Bᵀ ~ Wishart_m(n_k, I)
//            by Bartlett's decomposition, H an m × m Gaussian). The MLP's hidden kernel
//            K = (c/n)Σ_j σ_s(u_j)σ_s(u_j)ᵀ, u_j ~ N(0, V), still takes O(mn).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "math/shaped_sde.h"

namespace sigprop {

enum class FiniteSampler { Full, Reduced, Gram };
FiniteSampler parse_finite_sampler(const std::string& name);  // full | reduced | gram
std::string to_string(FiniteSampler s);

enum class AttentionShape { Shaped, Softmax };

struct FiniteOptions {
  ShapedParams params;
  AttentionShape shape = AttentionShape::Shaped;
  FiniteSampler sampler = FiniteSampler::Gram;
  torch::Tensor V0;       // (m, m) initial covariance Y₀Y₀ᵀ/n, float64
  int64_t width = 200;    // n
  int64_t key_width = 0;  // n_k; 0 = n
  int64_t depth = 150;    // blocks, t·n for horizon t
  int64_t networks = 4096;
  uint64_t seed = 1;
  // The full sampler's N(0, 1) weights, (networks in the chunk, n, cols), in the order a block
  // uses them: W_V, W_K, W_Q (attention), then W₁, W₂ (MLP). Unset: drawn from the chunk's
  // generator. Set, it runs given networks (tests: the same weights in sigprop's own model).
  std::function<torch::Tensor(int64_t chunk, int64_t n, int64_t cols)> full_weights;
  // The full and reduced samplers' initial tokens Y₀ (m, n), the same for every network, with
  // Y₀Y₀ᵀ/n = V0. Unset: Y₀ = √n·chol(V0)·O, O drawn per network.
  torch::Tensor Y0;
};

struct FiniteResult {
  torch::Tensor V;               // (networks, m, m) float64 after the last block
  std::vector<double> mean_rho;  // mean off-diagonal correlation after each block, 0..depth
};

// Runs `networks` independent networks from Y₀ = √n·chol(V0)·O (so Y₀Y₀ᵀ/n = V0 exactly), in
// chunks across threads, each chunk with its own generator: same seed, same numbers.
// Throws ConfigError naming the option for impossible sizes.
FiniteResult simulate_shaped_networks(const FiniteOptions& o);

// The number of blocks at horizon t = depth/width: round(t·n), at least 1.
int64_t depth_for_horizon(double t, int64_t width);

}  // namespace sigprop
