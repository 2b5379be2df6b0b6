// The attention-matrix interface. A variant turns per-head queries and keys into the T x T
// matrix A that multiplies the values; it is materialised because the probe measures it.
// Each variant is one file in model/attention/, listed once in attention_registry.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace sigprop {

struct ModelSpec;

// What a variant may depend on besides q and k: its place in the stack and the model's shape.
struct AttentionContext {
  const ModelSpec& spec;
  int layer;  // 0-based block index
};

// A variant that is an affine function of one softmax with constant coefficients,
//   A = diag(r) · softmax(s · q kᵀ + B) + C   (B, r, C independent of q and k),
// says so through softmax_form(): self-attention then runs it through one fused kernel with its
// own backward (model/attention/fused_softmax.h) instead of a chain of small ops.
struct SoftmaxForm {
  double scale = 1.0;       // s
  bool causal = false;      // future positions at -inf before the softmax
  torch::Tensor bias;       // B: (T, T), or undefined for none
  torch::Tensor row_scale;  // r: (T, 1), or undefined for none
  torch::Tensor offset;     // C: (T, T), or undefined for none
};

class AttentionMatrixImpl : public torch::nn::Module {
 public:
  // q, k: (B, H, T, d_k) -> A: (B, H, T, T)
  virtual torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) = 0;
  // The variant's softmax form for T tokens, or nullopt when it has none (trainable or
  // input-independent matrices).
  virtual std::optional<SoftmaxForm> softmax_form(int64_t /*T*/, const torch::TensorOptions&) {
    return std::nullopt;
  }
};
using AttentionMatrix = std::shared_ptr<AttentionMatrixImpl>;

struct AttentionVariant {
  std::string name;
  std::string summary;  // one line, with the paper it comes from
  AttentionMatrix (*make)(const AttentionContext&);
};

const std::vector<AttentionVariant>& attention_variants();
std::vector<std::string> attention_variant_names();
bool is_attention_variant(const std::string& name);
// Throws ConfigError listing the known names when `name` is not one.
AttentionMatrix make_attention_matrix(const std::string& name, const AttentionContext& ctx);

// Helpers shared by variants.
// Boolean (T, T) mask, true strictly above the diagonal (future positions).
torch::Tensor causal_mask(int64_t T, const torch::Device& device);
// Π = (1/T) 1 1^T, or the uniform causal matrix (row i holds 1/i on positions <= i): (T, T).
torch::Tensor uniform_attention_matrix(int64_t T, bool causal, const torch::TensorOptions& options);
// Logits `scale` q k^T, future positions at -inf when causal.
torch::Tensor scaled_logits(const torch::Tensor& q, const torch::Tensor& k, double scale, bool causal);
// A = diag(r) softmax(s q k^T + B) + C by plain tensor ops: the definition of a SoftmaxForm, and
// the path on devices and dtypes the fused kernel does not cover. (B, H, T, T).
torch::Tensor softmax_form_matrix(const SoftmaxForm& form, const torch::Tensor& q,
                                  const torch::Tensor& k);

}  // namespace sigprop
