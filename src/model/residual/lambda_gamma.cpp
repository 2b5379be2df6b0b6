// The shaped transformer's residual (Noci et al. 2023, paper 004): λX + γ f(X) with
// λ² + γ² = 1, so a block keeps the stream's variance; γ = model.residual_gamma.
#include <cmath>

#include <torch/torch.h>

#include "model/residual/residual.h"

namespace sigprop {
namespace {

class LambdaGammaResidual : public ResidualImpl {
 public:
  explicit LambdaGammaResidual(double gamma) : gamma_(gamma), lambda_(std::sqrt(1.0 - gamma * gamma)) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& branch) override {
    return torch::add(x * lambda_, branch, gamma_);
  }

 private:
  double gamma_, lambda_;
};

}  // namespace

Residual make_lambda_gamma_residual(const ResidualOptions& o) {
  return make_module<Residual, LambdaGammaResidual>(o.alpha());
}

}  // namespace sigprop
