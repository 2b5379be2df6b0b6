#include "model/block.h"

#include "model/norm.h"

namespace sigprop {

BlockImpl::BlockImpl(const ModelSpec& spec, int layer)
    : place_(spec.norm), skip_(spec.residual.kind), alpha_(spec.residual.alpha(spec.depth)) {
  attn = register_module("attn", SelfAttention(spec, layer));
  if (spec.mlp_width > 0) mlp = register_module("mlp", MLP(spec));
  if (place_ != NormPlace::None) {
    ln_1 = make_norm(spec.norm_kind, spec.width);
    register_module("ln_1", ln_1.ptr());
    if (mlp) {
      ln_2 = make_norm(spec.norm_kind, spec.width);
      register_module("ln_2", ln_2.ptr());
    }
  }
}

torch::Tensor BlockImpl::residual(const torch::Tensor& x, const torch::Tensor& branch) const {
  if (skip_ == ResidualScale::Kind::None) return branch;
  return alpha_ == 1.0 ? x + branch : x + alpha_ * branch;
}

torch::Tensor BlockImpl::norm(torch::nn::AnyModule& ln, const torch::Tensor& x) const {
  return ln.is_empty() ? x : ln.forward(x);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, torch::Tensor* attn_out) {
  const bool pre = place_ == NormPlace::Pre, post = place_ == NormPlace::Post;
  auto h = residual(x, attn(pre ? norm(ln_1, x) : x, attn_out));
  if (post) h = norm(ln_1, h);
  if (!mlp) return h;
  auto y = residual(h, mlp(pre ? norm(ln_2, h) : h));
  return post ? norm(ln_2, y) : y;
}

}  // namespace sigprop
