// Position-wise MLP: φ(X W_1 + b_1) W_2 + b_2, φ from the activation registry
// (model/activation/activation.h).
#pragma once

#include <torch/torch.h>

#include "kernels/affine.h"
#include "model/activation/activation.h"
#include "model/options.h"

namespace sigprop {

struct MLPImpl : torch::nn::Module {
  explicit MLPImpl(const MLPOptions& options);
  torch::Tensor forward(const torch::Tensor& x);  // (B, T, d) -> (B, T, d)

  Linear fc1{nullptr}, fc2{nullptr};
  Nonlinearity phi{nullptr};
};
TORCH_MODULE(MLP);

}  // namespace sigprop
