#include <map>

#include "model/residual/residual.h"

namespace sigprop {

Residual make_residual(const ResidualOptions& o) {
  using Kind = ResidualScale::Kind;
  using Factory = Residual (*)(const ResidualOptions&);
  static const std::map<Kind, Factory> factories = {
      {Kind::Constant, &make_scaled_residual},  // α from the options: 1 or a number
      {Kind::InvSqrtDepth, &make_scaled_residual},  // α = 1/√L (paper 002)
      {Kind::LambdaGamma, &make_lambda_gamma_residual},
      {Kind::None, &make_no_skip_residual},
      {Kind::InvDepth, &make_scaled_residual},  // α = 1/L (CompleteP)
      {Kind::LayerScale, &make_layerscale_residual},
      {Kind::ReZero, &make_rezero_residual},
      {Kind::DeepNorm, &make_deepnorm_residual},
  };
  return factories.at(o.kind())(o);
}

}  // namespace sigprop
