// `sigprop predict`: the signal propagation of a sigprop model at initialisation, from its
// configuration alone: a recursion on the T×T token kernel Σ_ij = E[x_i·x_j]/d (per-unit second
// moments over the random weights), block by block, and a backward recursion on the kernel Γ of
// the loss gradient, at infinite width (docs/theory.md, docs/methods.md "Predicting signal
// propagation"). No d×d weight is drawn. Per block:
//   norm (LayerNorm/RMSNorm):  Σ_ij ← Σ_ij / √((Σ_ii + ε)(Σ_jj + ε))
//   attention:                 Σ ← g_V g_O · (1/H) Σ_h A_h Σ A_hᵀ, A_h the variant's matrix of
//                              logits whose law given Σ is that of q = √g_Q L Z_q, k = √g_K L Z_k,
//                              L Lᵀ = Σ, drawn per head along independent paths (Monte Carlo over
//                              Z; exact when A does not depend on q, k)
//   MLP:                       Σ ← g₂ · E[φ(u)φ(v)], (u, v) ~ N(0, g₁ Σ) (closed form for the
//                              piecewise-linear φ, Gauss–Hermite for GELU)
//   similarity removal:        Σ ← M Σ Mᵀ, M = I − τΠ;  sandwich: the norm on the branch
//   residual:                  Σ ← λ² Σ + α² Σ_f (the cross term vanishes: W_O, W₂ have mean 0)
// and the gradient norms from the gradient-independence assumption (docs/theory.md).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "config/model_spec.h"
#include "probe/probe_input.h"

namespace sigprop {

struct PredictOptions {
  // Independent realisations of the attention per sequence. On each path every block draws the
  // spec's H heads from the logits' law given that path's kernel and mixes them as the model
  // does, so the recursion is the infinite-width limit at the spec's number of heads, not its
  // infinite-heads mean field.
  int paths = 8;
  int quadrature = 16;  // Gauss–Hermite nodes per axis, for activations without a closed form
  uint64_t seed = 0;
};
void validate(const PredictOptions& o);  // throws ConfigError naming the option

// What the recursion starts from, per sequence s: the embedded tokens' kernel Σ₀ over the
// embedding's random weights, and the kernel of ∂loss/∂output at the model's output (before any
// final norm) under the loss of the spec's input kind. Both (S, T, T) float64.
struct KernelInput {
  torch::Tensor sigma0, gamma_top;
  // Token input: the next-token targets (S, T) int64 and the vocabulary; Γ at the output is then
  // computed from the logits' law given the output's kernel (gamma_top unused).
  torch::Tensor targets;
  int64_t vocab = 0;
};
// From the batch the probe feeds the model (probe/probe_input.h): tokens (E[e_t·e_t']/d = δ_tt'),
// patches (the patch embedding's Xavier gain times the patches' Gram), raw inputs (their Gram),
// plus the positional table's kernel.
KernelInput kernel_input(const ModelSpec& spec, const ProbeBatch& batch);
// The first sequence only, repeated `copies` times: the input of a map's cells.
KernelInput repeat_first(const KernelInput& in, int64_t copies);

// Per-sequence overrides of the spec, for maps: each (S) float64, or undefined for the spec's.
struct KernelCells {
  torch::Tensor branch;  // α of every residual branch (replaces the spec's)
  torch::Tensor logit;   // multiplies W_Q (so the logits; QK-norm undoes it)
};

// Per sequence (columns) and layer (rows): the recursion's raw output.
struct KernelTrace {
  torch::Tensor cosine, t_sim;  // (L+1, S): mean off-diagonal of Σ's correlation; 1ᵀΣ1/(T trΣ)
  torch::Tensor entropy, lambda2;  // (L, S): mean row entropy of A (NaN where A has negative
                                   // entries), E|λ₂(A)|, over heads and paths
  torch::Tensor grad_q2, grad_v2;  // (L, S): E|∇W_Q|², E|∇W_V|² up to a common factor
  std::vector<bool> exact;         // per block: A does not depend on the draw of q, k
};
KernelTrace predict_trace(const ModelSpec& spec, const KernelInput& input,
                          const KernelCells& cells, const PredictOptions& o);

struct PredictedLayer {
  int layer = 0;  // 0 = embedded input, l = output of block l
  double cosine = 0, t_sim = 0;
  double entropy = NAN, lambda2 = NAN, grad_q_over_v = NAN;  // NaN for layer 0
  bool exact = true;  // the attention of this block is not a Monte Carlo estimate
};
// The spec's prediction, averaged over the input's sequences (gradient norms: the ratio of the
// mean squared norms, as the probe's norms of the summed gradient).
std::vector<PredictedLayer> predict_layers(const ModelSpec& spec, const KernelInput& input,
                                           const PredictOptions& o);

// The keys and values the recursion has no rule for, or "" when it covers the spec.
std::string unpredictable(const ModelSpec& spec);

}  // namespace sigprop
