// Shaped ReLU (Noci et al. 2023, paper 004; docs/methods.md#shaped-attention-and-shaped-relu):
//   σ_s(x) = s+ max(x,0) + s- min(x,0),  s± = 1 + c±/√n,
// scaled by √c with c = 2/(s+² + s-²), so that E[φ(z)²] = 1 for z ~ N(0, 1).
#include <cmath>

#include "model/activation/activation.h"

namespace sigprop {

Nonlinearity make_shaped_relu(const ActivationOptions& o) {
  const double root_n = std::sqrt(double(o.width()));
  const double s_pos = 1.0 + o.c_plus() / root_n, s_neg = 1.0 + o.c_minus() / root_n;
  const double gain = std::sqrt(2.0 / (s_pos * s_pos + s_neg * s_neg));
  return make_module<Nonlinearity, PiecewiseLinearImpl>(gain, s_pos, s_neg);
}

}  // namespace sigprop
