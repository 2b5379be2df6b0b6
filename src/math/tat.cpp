#include "math/tat.h"

#include <cmath>

#include <fmt/format.h>

#include "core/error.h"

namespace sigprop {

double tat_leaky_relu_gain(double slope) { return std::sqrt(2.0 / (1.0 + slope * slope)); }

double tat_c_map(double c, double slope) {
  c = std::fmax(-1.0, std::fmin(1.0, c));
  const double k = (1.0 - slope) * (1.0 - slope) / (M_PI * (1.0 + slope * slope));
  return c + k * (std::sqrt(1.0 - c * c) - c * std::acos(c));
}

double tat_c_map_iterate(double c0, double slope, int n) {
  double c = c0;
  for (int i = 0; i < n; ++i) c = tat_c_map(c, slope);
  return c;
}

double tat_solve_slope(double eta, int n) {
  if (!(eta > 0.0 && eta < 1.0))
    throw ConfigError(fmt::format("model.tat_eta = {} is not allowed: expected a number in (0, 1)", eta));
  if (n < 1) throw ConfigError("TAT needs at least one nonlinearity (model.mlp_width > 0)");
  const double reachable = tat_c_map_iterate(0.0, 0.0, n);
  if (eta > reachable)
    throw ConfigError(fmt::format(
        "model.tat_eta = {} is unreachable with N = {} nonlinearities: even ReLU (slope 0) only "
        "reaches C^N(0) = {:.4f}; use tat_eta <= {:.4f} or a deeper model",
        eta, n, reachable, reachable));
  double lo = 0.0, hi = 1.0;  // f(lo) >= eta > f(hi) = 0
  for (int i = 0; i < 100 && hi - lo > 1e-14; ++i) {
    const double mid = 0.5 * (lo + hi);
    (tat_c_map_iterate(0.0, mid, n) >= eta ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace sigprop
