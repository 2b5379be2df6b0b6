#include <map>

#include "model/activation/activation.h"

namespace sigprop {

Nonlinearity make_activation(const ActivationOptions& o) {
  using Factory = Nonlinearity (*)(const ActivationOptions&);
  static const std::map<Activation, Factory> factories = {
      {Activation::ReLU, &make_relu},
      {Activation::GELU, &make_gelu},
      {Activation::LeakyReLU, &make_leaky_relu},
      {Activation::TatLeakyReLU, &make_tat_leaky_relu},
      {Activation::ShapedReLU, &make_shaped_relu},
  };
  return factories.at(o.kind())(o);
}

torch::Tensor PiecewiseLinearImpl::forward(const torch::Tensor& h) {
  // g (s+ max(h,0) + s- min(h,0)) = g s+ leaky_relu(h, s-/s+) for s+ > 0: one fused kernel and
  // its own backward instead of five; leaky_relu's backward keeps its input, not its output, so
  // the scale can be applied in place.
  if (s_pos > 0) return torch::leaky_relu(h, s_neg / s_pos).mul_(gain * s_pos);
  return gain * (s_pos * torch::relu(h) - s_neg * torch::relu(-h));
}

}  // namespace sigprop
