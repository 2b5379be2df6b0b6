// LayerNorm (Ba, Kiros & Hinton 2016): y = (x − mean x) / √(var x + ε) · g + b, LibTorch's own.
#include "model/norm/norm.h"

namespace sigprop {

torch::nn::AnyModule make_layer_norm(const NormOptions& o) {
  return torch::nn::AnyModule(torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.width()}).eps(o.eps())));
}

}  // namespace sigprop
