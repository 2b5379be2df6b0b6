// The attention-matrix interface. A variant turns per-head queries and keys into the T x T
// matrix A that multiplies the values; it is materialised because the probe measures it.
// Each variant is one file in model/attention/, listed once in model/attention/registry.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "kernels/fused_attention.h"
#include "model/options.h"

namespace sigprop {

class AttentionMatrixImpl : public torch::nn::Module {
 public:
  // q, k: (B, H, T, d_k) -> A: (B, H, T, T)
  virtual torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) = 0;
  // The variant's softmax form for T tokens, or nullopt when it has none (trainable or
  // input-independent matrices).
  virtual std::optional<SoftmaxForm> softmax_form(int64_t /*T*/, const torch::TensorOptions&) {
    return std::nullopt;
  }
  // A variant A = α I + β B, with B another variant and α, β tensors (trainable, perhaps), says
  // so: self-attention then computes A v = α v + β (B v), B through its own fast path.
  struct IdentityMix {
    torch::Tensor alpha, beta;
    AttentionMatrixImpl* base;
  };
  virtual std::optional<IdentityMix> identity_mix() { return std::nullopt; }
};
TORCH_MODULE(AttentionMatrix);

// The registry (model/attention/registry.cpp): the variant `options.variant()` names, built for
// its layer. Throws ConfigError listing the known names (config/model_spec.h) when it is none.
AttentionMatrix make_attention_matrix(const AttentionOptions& options);
// The same, for the variant `options.base()`: what gap_removed and value_skipinit modify.
AttentionMatrix make_base_attention_matrix(const AttentionOptions& options);

// The variants' factories, one per file in model/attention/.
AttentionMatrix make_softmax_attention(const AttentionOptions& o);
AttentionMatrix make_uniform_attention(const AttentionOptions& o);
AttentionMatrix make_random_markov_attention(const AttentionOptions& o);
AttentionMatrix make_gap_removed_attention(const AttentionOptions& o);
AttentionMatrix make_shaped_attention(const AttentionOptions& o);
AttentionMatrix make_value_skipinit_attention(const AttentionOptions& o);
AttentionMatrix make_espa_attention(const AttentionOptions& o);
AttentionMatrix make_uspa_attention(const AttentionOptions& o);

// SPA's A_l (1-based layer l of o.depth()) for T tokens, float64: what an espa/uspa block
// applies at initialisation when W_Q = 0 (model/attention/spa.cpp).
torch::Tensor spa_layer_matrix(const AttentionOptions& o, int64_t T, int l);

// Helpers shared by variants.
// Π = (1/T) 1 1^T, or the uniform causal matrix (row i holds 1/i on positions <= i): (T, T).
torch::Tensor uniform_attention_matrix(int64_t T, bool causal, const torch::TensorOptions& options);
// Logits `scale` q k^T, future positions at -inf when causal.
torch::Tensor scaled_logits(const torch::Tensor& q, const torch::Tensor& k, double scale, bool causal);
// A = diag(r) softmax(s q k^T + B) + C by plain tensor ops: the definition of a SoftmaxForm, and
// the path on devices and dtypes the fused kernel does not cover. (B, H, T, T).
torch::Tensor softmax_form_matrix(const SoftmaxForm& form, const torch::Tensor& q,
                                  const torch::Tensor& k);

}  // namespace sigprop
