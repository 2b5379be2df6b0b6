// One transformer block, in the form of paper 002 (Noci et al. 2022):
//   Z = X + α·Attn(X),  Y = Z + α·MLP(Z)
// post-norm: LayerNorm after each sum; pre-norm: inside each branch. The residual is one of
// X + α f(X) (α = 1, 1/√L, or a number), f(X) alone (no skip), or λX + γ f(X) (paper 004).
// Similarity removal (paper 000, model/similarity_removal.h) maps a branch output f to
// (I − τΠ) f, or (I − τC) f when causal, before the residual add.
#pragma once

#include <torch/torch.h>

#include "config/model_spec.h"
#include "model/mlp.h"
#include "model/self_attention.h"

namespace sigprop {

struct BlockImpl : torch::nn::Module {
  BlockImpl(const ModelSpec& spec, int layer);
  // x: (B, T, d) -> (B, T, d). `attn_out` receives this block's attention matrix when given.
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* attn_out = nullptr);

  SelfAttention attn{nullptr};
  MLP mlp{nullptr};  // null in attention-only blocks
  torch::nn::AnyModule ln_1, ln_2;

 private:
  torch::Tensor residual(const torch::Tensor& x, const torch::Tensor& branch) const;
  torch::Tensor norm(torch::nn::AnyModule& ln, const torch::Tensor& x) const;

  NormPlace place_;
  ResidualScale::Kind skip_;
  double alpha_, lambda_;  // branch and skip weights
  double sim_tau_;
  bool causal_, sim_attn_, sim_mlp_;
};
TORCH_MODULE(Block);

}  // namespace sigprop
