#include "model/block.h"

#include "model/norm/norm.h"
#include "model/similarity_removal.h"

namespace sigprop {

BlockImpl::BlockImpl(const BlockOptions& o) {
  const auto identity = [] { return torch::nn::AnyModule(torch::nn::Identity()); };
  attn = register_module("attn", SelfAttention(o.attention()));
  residual_1 = register_module("residual_1", make_residual(o.residual()));
  const bool has_mlp = o.mlp().hidden() > 0;
  if (has_mlp) {
    mlp = register_module("mlp", MLP(o.mlp()));
    residual_2 = register_module("residual_2", make_residual(o.residual()));
  }

  // Where the norm sits: ln_1 and ln_2 before (pre, sandwich) or after (post) their sublayer's
  // residual; sandwich adds ln_k_out on the branch output.
  pre_1 = identity(), post_1 = identity(), out_1 = identity();
  pre_2 = identity(), post_2 = identity(), out_2 = identity();
  const NormPlace place = o.norm_place();
  const auto place_norms = [&](const std::string& name, torch::nn::AnyModule& pre,
                               torch::nn::AnyModule& post, torch::nn::AnyModule& out) {
    if (place == NormPlace::None) return;
    auto ln = make_norm(o.norm());
    register_module(name, ln.ptr());
    (place == NormPlace::Post ? post : pre) = ln;
    if (place == NormPlace::Sandwich) {
      out = make_norm(o.norm());
      register_module(name + "_out", out.ptr());
    }
  };
  place_norms("ln_1", pre_1, post_1, out_1);
  if (has_mlp) place_norms("ln_2", pre_2, post_2, out_2);
  // Which branch outputs get similarity removal.
  const auto removal = [&](bool on) {
    return on ? torch::nn::AnyModule(SimilarityRemoval(o.similarity_removal())) : identity();
  };
  sim_1 = removal(o.simremove() == SimRemove::Attention || o.simremove() == SimRemove::Both);
  sim_2 = removal(o.simremove() == SimRemove::MLP || o.simremove() == SimRemove::Both);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, torch::Tensor* attn_out) {
  auto a = sim_1.forward(out_1.forward(attn(pre_1.forward(x), attn_out)));
  auto z = post_1.forward(residual_1(x, a));
  if (!mlp) return z;
  auto m = sim_2.forward(out_2.forward(mlp(pre_2.forward(z))));
  return post_2.forward(residual_2(z, m));
}

}  // namespace sigprop
