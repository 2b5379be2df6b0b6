#include "model/mlp.h"

namespace sigprop {

MLPImpl::MLPImpl(const MLPOptions& o) {
  fc1 = register_module("fc1", Linear(o.width(), o.hidden()));
  fc2 = register_module("fc2", Linear(o.hidden(), o.width()));
  phi = register_module("phi", make_activation(o.activation()));
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  return fc2(phi(fc1(x)));  // (B, T, d) -> (B, T, d_mlp) -> (B, T, d)
}

}  // namespace sigprop
