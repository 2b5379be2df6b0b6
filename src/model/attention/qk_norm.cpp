#include "model/attention/qk_norm.h"

namespace sigprop {

QKNormImpl::QKNormImpl(int64_t h, int64_t dk) : heads(h), d_k(dk) {
  q_gain = register_parameter("q_gain", torch::ones({dk}));
  k_gain = register_parameter("k_gain", torch::ones({dk}));
}

torch::Tensor QKNormImpl::forward(const torch::Tensor& qkv) {
  const int64_t B = qkv.size(0), T = qkv.size(1), n = heads * d_k;
  const auto rms = [&](int64_t start, const torch::Tensor& g) {
    const auto x = qkv.narrow(-1, start, n).reshape({B, T, heads, d_k});  // per head
    return (x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + kEps) * g).reshape({B, T, n});
  };
  return torch::cat({rms(0, q_gain), rms(n, k_gain), qkv.narrow(-1, 2 * n, qkv.size(-1) - 2 * n)}, -1);
}

}  // namespace sigprop
