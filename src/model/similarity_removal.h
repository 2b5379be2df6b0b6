// Similarity removal (Yu & Zhang 2023, paper 000; docs/methods.md#similarity-removal).
//   bidirectional: Y ← (I − τΠ) Y,  Π = 11ᵀ/T      (subtract τ times the mean token)
//   causal:        Y ← (I − τC) Y,  C_ts = 1/(t+1) for s ≤ t, else 0
// The paper uses Π. In a causal model Π would hand every position the mean of the whole window,
// the tokens it must predict included; C averages only what position t may see. [guess: the
// paper does not say how to apply the fix causally.]
#pragma once

#include <torch/torch.h>

#include "model/options.h"

namespace sigprop {

// y: (B, T, d) -> (B, T, d).
torch::Tensor remove_similarity(const torch::Tensor& y, double tau, bool causal);

// The same as a module, to follow a branch inside a block.
struct SimilarityRemovalImpl : torch::nn::Module {
  explicit SimilarityRemovalImpl(const SimilarityRemovalOptions& options) : options(options) {}
  torch::Tensor forward(const torch::Tensor& y) { return remove_similarity(y, options.tau(), options.causal()); }
  SimilarityRemovalOptions options;
};
TORCH_MODULE(SimilarityRemoval);

}  // namespace sigprop
