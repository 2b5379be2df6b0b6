// Multi-head self-attention with a pluggable attention matrix (model/attention/attention_matrix.h):
//   q = X W_Q, k = X W_K, v = X W_V,  out = concat_h(A_h v_h) W_O,  A_h = matrix(q_h, k_h).
// No biases, as in the signal-propagation analyses (papers 001-004). With options.qk_norm, q and
// k are RMS-normalised per head first (model/attention/qk_norm.h).
#pragma once

#include <torch/torch.h>

#include "kernels/affine.h"
#include "model/attention/attention_matrix.h"
#include "model/attention/qk_norm.h"
#include "model/options.h"

namespace sigprop {

struct SelfAttentionImpl : torch::nn::Module {
  explicit SelfAttentionImpl(const AttentionOptions& options);
  // x: (B, T, d). When `attn_out` is given it receives A, detached: (B, H, T, T).
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* attn_out = nullptr);

  AttentionOptions options;
  Linear w_q{nullptr}, w_k{nullptr}, w_v{nullptr}, w_o{nullptr};
  AttentionMatrix matrix{nullptr};
  QKNorm qk_norm{nullptr};  // null without options.qk_norm
};
TORCH_MODULE(SelfAttention);

}  // namespace sigprop
