#include <map>

#include "model/norm/norm.h"

namespace sigprop {

torch::nn::AnyModule make_norm(const NormOptions& o) {
  using Factory = torch::nn::AnyModule (*)(const NormOptions&);
  static const std::map<NormKind, Factory> factories = {
      {NormKind::LayerNorm, &make_layer_norm},
      {NormKind::RMSNorm, &make_rms_norm},
  };
  return factories.at(o.kind())(o);
}

}  // namespace sigprop
