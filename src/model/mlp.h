// Position-wise MLP: act(X W_1 + b_1) W_2 + b_2.
#pragma once

#include <torch/torch.h>

#include "config/model_spec.h"

namespace sigprop {

struct MLPImpl : torch::nn::Module {
  explicit MLPImpl(const ModelSpec& spec);
  torch::Tensor forward(const torch::Tensor& x);  // (B, T, d) -> (B, T, d)

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  Activation activation;
  double leaky_slope;
};
TORCH_MODULE(MLP);

}  // namespace sigprop
