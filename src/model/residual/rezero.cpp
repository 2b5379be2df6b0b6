// ReZero (Bachlechner et al. 2021; SkipInit, De & Smith 2020): X + g f(X) with one learnable
// scalar g per branch, 0 at init, so every block starts as the identity and signal propagation
// at init is the embedding's whatever the depth.
#include <torch/torch.h>

#include "model/residual/residual.h"

namespace sigprop {
namespace {

class ReZeroResidual : public ResidualImpl {
 public:
  explicit ReZeroResidual(double init) { gain = register_parameter("gain", torch::full({1}, init)); }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& branch) override {
    return x + branch * gain;
  }
  torch::Tensor gain;
};

}  // namespace

Residual make_rezero_residual(const ResidualOptions& o) {
  return make_module<Residual, ReZeroResidual>(o.alpha());
}

}  // namespace sigprop
