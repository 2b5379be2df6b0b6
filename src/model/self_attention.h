// Multi-head self-attention with a pluggable attention matrix (model/attention.h):
// q = X W_Q, k = X W_K, v = X W_V, out = concat_h(A_h v_h) W_O. No biases, as in the
// signal-propagation analyses (papers 001-004).
#pragma once

#include <torch/torch.h>

#include "config/model_spec.h"
#include "model/attention.h"

namespace sigprop {

struct SelfAttentionImpl : torch::nn::Module {
  SelfAttentionImpl(const ModelSpec& spec, int layer);
  // x: (B, T, d). When `attn_out` is given it receives A, detached: (B, H, T, T).
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* attn_out = nullptr);

  int64_t heads, d_k, d_v;
  torch::nn::Linear w_q{nullptr}, w_k{nullptr}, w_v{nullptr}, w_o{nullptr};
  AttentionMatrix matrix;
};
TORCH_MODULE(SelfAttention);

}  // namespace sigprop
