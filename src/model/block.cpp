#include "model/block.h"

#include <cmath>

#include "model/norm.h"
#include "model/similarity_removal.h"

namespace sigprop {

BlockImpl::BlockImpl(const ModelSpec& spec, int layer)
    : place_(spec.norm),
      skip_(spec.residual.kind),
      alpha_(spec.residual.alpha(spec.depth)),
      lambda_(1.0),
      sim_tau_(spec.simremove_tau),
      causal_(spec.causal),
      sim_attn_(spec.simremove == SimRemove::Attention || spec.simremove == SimRemove::Both),
      sim_mlp_(spec.simremove == SimRemove::MLP || spec.simremove == SimRemove::Both) {
  if (skip_ == ResidualScale::Kind::LambdaGamma) {
    alpha_ = spec.residual_gamma;
    lambda_ = std::sqrt(1.0 - alpha_ * alpha_);
  }
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
  // torch::add(a, b, alpha) = a + alpha b in one pass over memory.
  return torch::add(lambda_ == 1.0 ? x : x * lambda_, branch, alpha_);
}

torch::Tensor BlockImpl::norm(torch::nn::AnyModule& ln, const torch::Tensor& x) const {
  return ln.is_empty() ? x : ln.forward(x);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, torch::Tensor* attn_out) {
  const bool pre = place_ == NormPlace::Pre, post = place_ == NormPlace::Post;
  auto a = attn(pre ? norm(ln_1, x) : x, attn_out);
  if (sim_attn_) a = remove_similarity(a, sim_tau_, causal_);
  auto h = residual(x, a);
  if (post) h = norm(ln_1, h);
  if (!mlp) return h;
  auto m = mlp(pre ? norm(ln_2, h) : h);
  if (sim_mlp_) m = remove_similarity(m, sim_tau_, causal_);
  auto y = residual(h, m);
  return post ? norm(ln_2, y) : y;
}

}  // namespace sigprop
