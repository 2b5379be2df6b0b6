// RMSNorm (Zhang & Sennrich 2019): y = x / √(mean(x²) + ε) · g, no centring, no bias.
#include "model/norm/norm.h"

namespace sigprop {

RMSNormImpl::RMSNormImpl(const NormOptions& o) : eps(o.eps()) {
  weight = register_parameter("weight", torch::ones({o.width()}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * weight;
}

torch::nn::AnyModule make_rms_norm(const NormOptions& o) { return torch::nn::AnyModule(RMSNorm(o)); }

}  // namespace sigprop
