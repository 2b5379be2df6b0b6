#include "model/similarity_removal.h"

#include <torch/torch.h>

namespace sigprop {

torch::Tensor remove_similarity(const torch::Tensor& y, double tau, bool causal) {
  if (!causal) return y - tau * y.mean(1, /*keepdim=*/true);
  // C Y as a running mean: O(T d) instead of the T×T product, and row t reads rows ≤ t only.
  const auto T = y.size(1);
  auto count = torch::arange(1, T + 1, y.options()).view({1, T, 1});  // (1, T, 1): t + 1
  return y - tau * (y.cumsum(1) / count);
}

}  // namespace sigprop
