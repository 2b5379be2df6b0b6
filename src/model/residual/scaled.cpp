// The scaled residual X + α f(X). α = 1 is the standard transformer; α = 1/√L (Noci et al. 2022,
// paper 002) keeps the stream's norm and the query/key gradients bounded as depth grows; α = 1/L
// (CompleteP, Dey et al. 2025) makes each block's update O(1/L), so hyperparameters transfer
// across depth.
#include <torch/torch.h>

#include "model/residual/residual.h"

namespace sigprop {
namespace {

class ScaledResidual : public ResidualImpl {
 public:
  explicit ScaledResidual(double alpha) : alpha_(alpha) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& branch) override {
    return torch::add(x, branch, alpha_);  // x + α branch, one pass over memory
  }

 private:
  double alpha_;
};

}  // namespace

Residual make_scaled_residual(const ResidualOptions& o) {
  return make_module<Residual, ScaledResidual>(o.alpha());
}

}  // namespace sigprop
