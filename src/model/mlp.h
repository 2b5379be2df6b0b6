// Position-wise MLP: φ(X W_1 + b_1) W_2 + b_2, with φ one of relu, gelu, leaky_relu,
// TAT leaky ReLU (paper 001: slope solved for the model's depth) or shaped ReLU (paper 004).
#pragma once

#include <torch/torch.h>

#include "config/model_spec.h"

namespace sigprop {

struct MLPImpl : torch::nn::Module {
  explicit MLPImpl(const ModelSpec& spec);
  torch::Tensor forward(const torch::Tensor& x);  // (B, T, d) -> (B, T, d)

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

 private:
  torch::Tensor activate(const torch::Tensor& h) const;  // φ

  // Every activation but gelu is φ(h) = gain · (s+ max(h,0) + s- min(h,0)).
  bool piecewise_linear_ = true;
  double gain_ = 1.0, s_pos_ = 1.0, s_neg_ = 0.0;
};
TORCH_MODULE(MLP);

}  // namespace sigprop
