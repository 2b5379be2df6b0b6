#include "model/attention/self_attention.h"

#include "kernels/fused_attention.h"

namespace sigprop {

SelfAttentionImpl::SelfAttentionImpl(const AttentionOptions& o) : options(o) {
  const int64_t d = o.width(), h = o.heads();
  auto linear = [](int64_t in, int64_t out) {
    return Linear(torch::nn::LinearOptions(in, out).bias(false));
  };
  w_q = register_module("w_q", linear(d, h * o.d_k()));
  w_k = register_module("w_k", linear(d, h * o.d_k()));
  w_v = register_module("w_v", linear(d, h * o.d_v()));
  w_o = register_module("w_o", linear(h * o.d_v(), d));
  matrix = register_module("matrix", make_attention_matrix(o));
  if (o.qk_norm()) qk_norm = register_module("qk_norm", QKNorm(h, o.d_k()));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, torch::Tensor* attn_out) {
  const int64_t T = x.size(1), h = options.heads();
  // [q | k | v] = X [W_Q | W_K | W_V]ᵀ: (B, T, H·d_k + H·d_k + H·d_v)
  auto qkv = affine_packed(x, {w_q->weight, w_k->weight, w_v->weight});
  if (qk_norm) qkv = qk_norm(qkv);
  // A = α I + β B: A v = α v + β (B v), B by its own path.
  const auto mix = matrix->identity_mix();
  AttentionMatrixImpl* a = mix ? mix->base : matrix.get();
  // concat_h(A_h v_h): (B, T, H·d_v)
  auto heads = attend(qkv, h, options.d_k(), options.d_v(), a->softmax_form(T, x.options()),
                      [a](const auto& q, const auto& k) { return a->forward(q, k); }, attn_out);
  if (mix) {
    const auto v = qkv.narrow(-1, 2 * h * options.d_k(), h * options.d_v());  // concat_h v_h
    heads = mix->alpha * v + mix->beta * heads;
    if (attn_out)
      *attn_out = (mix->alpha * torch::eye(T, x.options()) + mix->beta * *attn_out).detach();
  }
  return w_o(heads);  // (B, T, d)
}

}  // namespace sigprop
