// One transformer block, in the form of paper 002 (Noci et al. 2022; docs/methods.md#the-block):
//   Z = post₁(X ⊕ sim₁(Attn(pre₁(X)))),   Y = post₂(Z ⊕ sim₂(MLP(pre₂(Z))))
// ⊕ the residual form (model/residual/), pre/post the norm where it is placed (pre-LN: pre = norm,
// post = identity; post-LN the reverse; none: both identity), sim the similarity removal of paper
// 000 on the branches it is placed on (model/similarity_removal.h), else identity. Sandwich norm
// (CogView, Ding et al. 2021) is pre-LN with one more norm, out, on each branch's output:
//   Z = X ⊕ sim₁(out₁(Attn(pre₁(X)))),   out = identity for every other placement.
// The pieces are chosen once, at construction; the forward pass is the same for every variant.
#pragma once

#include <torch/torch.h>

#include "model/attention/self_attention.h"
#include "model/mlp.h"
#include "model/options.h"
#include "model/residual/residual.h"

namespace sigprop {

struct BlockImpl : torch::nn::Module {
  explicit BlockImpl(const BlockOptions& options);
  // x: (B, T, d) -> (B, T, d). `attn_out` receives this block's attention matrix when given.
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* attn_out = nullptr);

  SelfAttention attn{nullptr};
  MLP mlp{nullptr};  // null in attention-only blocks
  // One per branch (residual_1: attention, residual_2: MLP), so learnable gains are the branch's.
  Residual residual_1{nullptr}, residual_2{nullptr};
  // The norms are registered as ln_1 and ln_2 where they are placed, sandwich's output norms as
  // ln_1_out and ln_2_out; identity elsewhere.
  torch::nn::AnyModule pre_1, post_1, out_1, sim_1, pre_2, post_2, out_2, sim_2;
};
TORCH_MODULE(Block);

}  // namespace sigprop
