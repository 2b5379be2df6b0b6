#include "model/norm.h"

namespace sigprop {

RMSNormImpl::RMSNormImpl(int64_t width, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({width}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * weight;
}

torch::nn::AnyModule make_norm(NormKind kind, int64_t width) {
  if (kind == NormKind::RMSNorm) return torch::nn::AnyModule(RMSNorm(width));
  return torch::nn::AnyModule(
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(1e-5)));
}

}  // namespace sigprop
