// TAT leaky ReLU (He et al. 2023, paper 001, after Zhang et al. 2022; docs/methods.md#tat-leaky-relu):
//   φ(x) = √(2/(1+α²)) max(x, αx),
// with α solved so that a chain of the model's N nonlinearities maps correlation 0 to η
// (math/tat.h). Throws ConfigError naming model.tat_eta when η is out of reach of N.
#include "math/tat.h"
#include "model/activation/activation.h"

namespace sigprop {

Nonlinearity make_tat_leaky_relu(const ActivationOptions& o) {
  const double alpha = tat_solve_slope(o.tat_eta(), o.tat_nonlinearities());
  return make_module<Nonlinearity, PiecewiseLinearImpl>(tat_leaky_relu_gain(alpha), 1.0, alpha);
}

}  // namespace sigprop
