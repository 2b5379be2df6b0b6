// QK-norm (Dehghani et al. 2023, "Scaling Vision Transformers to 22B"; Qwen3, OLMo 2, Gemma 3):
// each head's q and k RMS-normalised over its d_k channels, with learnable per-channel gains
// (shared by the heads, 1 at init, ε = 1e-6), before the logits q·k. The logits are then bounded
// by the gains, whatever the weights grow to: no attention-entropy collapse, no logit blow-up.
#pragma once

#include <torch/torch.h>

namespace sigprop {

struct QKNormImpl : torch::nn::Module {
  QKNormImpl(int64_t heads, int64_t d_k);
  // The packed projections [q | k | v] (B, T, 2·H·d_k + H·d_v) with q and k normalised.
  torch::Tensor forward(const torch::Tensor& qkv);

  torch::Tensor q_gain, k_gain;  // (d_k)
  int64_t heads, d_k;
  static constexpr double kEps = 1e-6;
};
TORCH_MODULE(QKNorm);

}  // namespace sigprop
