#include "model/block.h"

#include "model/norm/norm.h"
#include "model/similarity_removal.h"

namespace sigprop {

BlockImpl::BlockImpl(const BlockOptions& o) {
  const auto identity = [] { return torch::nn::AnyModule(torch::nn::Identity()); };
  attn = register_module("attn", SelfAttention(o.attention()));
  residual = register_module("residual", make_residual(o.residual()));
  const bool has_mlp = o.mlp().hidden() > 0;
  if (has_mlp) mlp = register_module("mlp", MLP(o.mlp()));

  // Where the norm sits: ln_1 and ln_2 before (pre) or after (post) their sublayer's residual.
  pre_1 = identity(), post_1 = identity(), pre_2 = identity(), post_2 = identity();
  if (o.norm_place() != NormPlace::None) {
    auto ln_1 = make_norm(o.norm());
    register_module("ln_1", ln_1.ptr());
    (o.norm_place() == NormPlace::Pre ? pre_1 : post_1) = ln_1;
    if (has_mlp) {
      auto ln_2 = make_norm(o.norm());
      register_module("ln_2", ln_2.ptr());
      (o.norm_place() == NormPlace::Pre ? pre_2 : post_2) = ln_2;
    }
  }
  // Which branch outputs get similarity removal.
  const auto removal = [&](bool on) {
    return on ? torch::nn::AnyModule(SimilarityRemoval(o.similarity_removal())) : identity();
  };
  sim_1 = removal(o.simremove() == SimRemove::Attention || o.simremove() == SimRemove::Both);
  sim_2 = removal(o.simremove() == SimRemove::MLP || o.simremove() == SimRemove::Both);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, torch::Tensor* attn_out) {
  auto a = sim_1.forward(attn(pre_1.forward(x), attn_out));
  auto z = post_1.forward(residual(x, a));
  if (!mlp) return z;
  auto m = sim_2.forward(mlp(pre_2.forward(z)));
  return post_2.forward(residual(z, m));
}

}  // namespace sigprop
