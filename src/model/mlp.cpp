#include "model/mlp.h"

namespace sigprop {

MLPImpl::MLPImpl(const ModelSpec& spec)
    : activation(spec.activation), leaky_slope(spec.leaky_slope) {
  fc1 = register_module("fc1", torch::nn::Linear(spec.width, spec.mlp_width));
  fc2 = register_module("fc2", torch::nn::Linear(spec.mlp_width, spec.width));
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  auto h = fc1(x);
  switch (activation) {
    case Activation::ReLU: h = torch::relu(h); break;
    case Activation::GELU: h = torch::gelu(h); break;
    case Activation::LeakyReLU: h = torch::leaky_relu(h, leaky_slope); break;
  }
  return fc2(h);
}

}  // namespace sigprop
