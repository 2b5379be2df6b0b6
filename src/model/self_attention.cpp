#include "model/self_attention.h"

#include "model/attention/fused_softmax.h"
#include "model/affine.h"

namespace sigprop {

SelfAttentionImpl::SelfAttentionImpl(const ModelSpec& spec, int layer)
    : heads(spec.heads), d_k(spec.key_width()), d_v(spec.width / spec.heads) {
  auto linear = [](int64_t in, int64_t out) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
  };
  w_q = register_module("w_q", linear(spec.width, heads * d_k));
  w_k = register_module("w_k", linear(spec.width, heads * d_k));
  w_v = register_module("w_v", linear(spec.width, spec.width));
  w_o = register_module("w_o", linear(spec.width, spec.width));
  matrix = register_module("matrix", make_attention_matrix(spec.attention, {spec, layer}));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, torch::Tensor* attn_out) {
  const int64_t B = x.size(0), T = x.size(1);
  auto split = [&](const torch::Tensor& t, int64_t hd) {
    return t.view({B, T, heads, hd}).transpose(1, 2);  // (B, H, T, hd)
  };
  // One GEMM for the three projections: a wider product runs nearer the BLAS peak than three
  // narrow ones. The weights stay three parameters, so names, init and gradients are unchanged.
  const auto qkv = affine(x, torch::cat({w_q->weight, w_k->weight, w_v->weight}));
  if (auto form = matrix->softmax_form(T, x.options()); form && fused_attention_supported(qkv))
    return affine(fused_softmax_attention(qkv, heads, d_k, d_v, *form, attn_out), w_o->weight);
  const auto parts = qkv.split_with_sizes({heads * d_k, heads * d_k, heads * d_v}, -1);
  auto q = split(parts[0], d_k), k = split(parts[1], d_k), v = split(parts[2], d_v);
  auto A = matrix->forward(q, k);  // (B, H, T, T)
  if (attn_out) *attn_out = A.detach();
  auto y = torch::matmul(A, v).transpose(1, 2).reshape({B, T, heads * d_v});  // (B, T, d)
  return affine(y, w_o->weight);
}

}  // namespace sigprop
