// GELU, φ(h) = h Φ(h) (Hendrycks & Gimpel 2016), exact (erf) form.
#include "model/activation/activation.h"

namespace sigprop {
namespace {

class GELUImpl : public NonlinearityImpl {
 public:
  torch::Tensor forward(const torch::Tensor& h) override { return torch::gelu(h); }
};

}  // namespace

Nonlinearity make_gelu(const ActivationOptions&) { return make_module<Nonlinearity, GELUImpl>(); }

}  // namespace sigprop
