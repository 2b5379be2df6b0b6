// Normalisation layers: LayerNorm, or RMSNorm (Zhang & Sennrich 2019), chosen by ModelSpec.
#pragma once

#include <torch/torch.h>

#include "config/model_spec.h"

namespace sigprop {

// RMSNorm: x / sqrt(mean(x^2) + eps) * g. Not in LibTorch 1.13, so written here.
struct RMSNormImpl : torch::nn::Module {
  RMSNormImpl(int64_t width, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// A norm of the spec's kind, as a type-erased module so a block holds either.
torch::nn::AnyModule make_norm(NormKind kind, int64_t width);

}  // namespace sigprop
