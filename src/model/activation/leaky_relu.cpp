// Leaky ReLU, φ(h) = max(h, 0) + a min(h, 0), a = model.leaky_slope.
#include "model/activation/activation.h"

namespace sigprop {

Nonlinearity make_leaky_relu(const ActivationOptions& o) {
  return make_module<Nonlinearity, PiecewiseLinearImpl>(1.0, 1.0, o.leaky_slope());
}

}  // namespace sigprop
