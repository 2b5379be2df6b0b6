// Normalisation layers, one file per kind, chosen by the registry (registry.cpp) from
// NormOptions::kind: LayerNorm (Ba et al. 2016; LibTorch's own) or RMSNorm (Zhang & Sennrich
// 2019). Where a block puts them (pre, post, none) is the block's business (model/block.h).
#pragma once

#include <torch/torch.h>

#include "model/options.h"

namespace sigprop {

// RMSNorm: x / sqrt(mean(x^2) + eps) * g. Not in LibTorch 1.13, so written here.
struct RMSNormImpl : torch::nn::Module {
  explicit RMSNormImpl(const NormOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// A norm of options.kind(), type-erased so a block holds either.
torch::nn::AnyModule make_norm(const NormOptions& options);
torch::nn::AnyModule make_layer_norm(const NormOptions& options);
torch::nn::AnyModule make_rms_norm(const NormOptions& options);

}  // namespace sigprop
