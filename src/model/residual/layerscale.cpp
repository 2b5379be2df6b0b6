// LayerScale (Touvron et al. 2021, CaiT): X + diag(g) f(X) with a learnable per-channel gain g,
// small at init (model.layerscale_init, or CaiT's by depth), so a deep stack starts near the
// identity and each channel of each branch learns how much to contribute.
#include <torch/torch.h>

#include "model/residual/residual.h"

namespace sigprop {
namespace {

class LayerScaleResidual : public ResidualImpl {
 public:
  LayerScaleResidual(int64_t width, double init) {
    gain = register_parameter("gain", torch::full({width}, init));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& branch) override {
    return x + branch * gain;  // g broadcasts over (B, T)
  }
  torch::Tensor gain;
};

}  // namespace

Residual make_layerscale_residual(const ResidualOptions& o) {
  return make_module<Residual, LayerScaleResidual>(o.width(), o.alpha());
}

}  // namespace sigprop
