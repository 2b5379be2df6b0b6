// The attention-matrix interface. A variant turns per-head queries and keys into the T x T
// matrix A that multiplies the values; it is materialised because the probe measures it.
// Each variant is one file in model/attention/, listed once in attention_registry.cpp.
#pragma once

#include <memory>
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

class AttentionMatrixImpl : public torch::nn::Module {
 public:
  // q, k: (B, H, T, d_k) -> A: (B, H, T, T)
  virtual torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) = 0;
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
// Scaled dot-product logits q k^T / sqrt(d_k), future positions at -inf when causal.
torch::Tensor attention_logits(const torch::Tensor& q, const torch::Tensor& k, bool causal);

}  // namespace sigprop
