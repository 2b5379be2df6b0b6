// The MLP's nonlinearity φ, one file per kind, chosen by the registry (registry.cpp) from
// ActivationOptions::kind. Piecewise-linear kinds share one module: φ(h) = g (s+ max(h,0) +
// s- min(h,0)), and each kind's file says how its paper picks g and s±.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "model/options.h"

namespace sigprop {

class NonlinearityImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& h) = 0;  // elementwise, any shape
};
TORCH_MODULE(Nonlinearity);

// φ(h) = gain · (s+ max(h,0) + s- min(h,0)).
class PiecewiseLinearImpl : public NonlinearityImpl {
 public:
  PiecewiseLinearImpl(double gain, double s_pos, double s_neg)
      : gain(gain), s_pos(s_pos), s_neg(s_neg) {}
  torch::Tensor forward(const torch::Tensor& h) override;
  const double gain, s_pos, s_neg;
};

// The registry: the nonlinearity options.kind() names. Throws ConfigError when it cannot be built
// (a TAT target out of reach of the model's depth).
Nonlinearity make_activation(const ActivationOptions& options);

// The kinds, one per file in model/activation/.
Nonlinearity make_relu(const ActivationOptions& o);
Nonlinearity make_gelu(const ActivationOptions& o);
Nonlinearity make_leaky_relu(const ActivationOptions& o);
Nonlinearity make_tat_leaky_relu(const ActivationOptions& o);
Nonlinearity make_shaped_relu(const ActivationOptions& o);

}  // namespace sigprop
