// ReLU, φ(h) = max(h, 0): the standard transformer MLP's nonlinearity.
#include "model/activation/activation.h"

namespace sigprop {
namespace {

class ReLUImpl : public NonlinearityImpl {
 public:
  torch::Tensor forward(const torch::Tensor& h) override { return torch::relu(h); }
};

}  // namespace

Nonlinearity make_relu(const ActivationOptions&) { return make_module<Nonlinearity, ReLUImpl>(); }

}  // namespace sigprop
