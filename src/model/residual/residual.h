// How a branch f joins the residual stream, one file per form, chosen by the registry
// (registry.cpp) from ResidualOptions::kind (docs/methods.md#the-block):
//   X + α f(X)      α = 1, a constant, 1/√L (paper 002) or 1/L     scaled.cpp
//   λX + γ f(X)     λ² + γ² = 1 (paper 004's shaped transformer)  lambda_gamma.cpp
//   f(X)            no skip connection                            no_skip.cpp
//   X + diag(g) f(X)  g learnable per channel, small at init      layerscale.cpp
//   X + g f(X)      g a learnable scalar, 0 at init (ReZero)      rezero.cpp
//   a X + f(X)      a = (2L)^{1/4}, then post-LN (DeepNet)        deepnorm.cpp
// A block holds one per branch, so learnable gains are the branch's own.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "model/options.h"

namespace sigprop {

class ResidualImpl : public torch::nn::Module {
 public:
  // x, branch = f(x): (B, T, d) -> (B, T, d)
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& branch) = 0;
};
TORCH_MODULE(Residual);

Residual make_residual(const ResidualOptions& options);

Residual make_scaled_residual(const ResidualOptions& o);
Residual make_lambda_gamma_residual(const ResidualOptions& o);
Residual make_no_skip_residual(const ResidualOptions& o);
Residual make_layerscale_residual(const ResidualOptions& o);
Residual make_rezero_residual(const ResidualOptions& o);
Residual make_deepnorm_residual(const ResidualOptions& o);

}  // namespace sigprop
