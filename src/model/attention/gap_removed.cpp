// Spectral-gap removal (Naderi, Nait Saada & Tanner 2024, paper 003): A⊥ = A − (1/T) 1 1^T, per
// head, after the softmax and before the values; A 1 = 1, so this removes the outlier singular
// value σ1 ≈ 1 and with it rank collapse in width. Causal form: subtract the uniform causal
// matrix (row i holds 1/i on positions <= i), the causal A's own "mean" direction.
// The base matrix A is the variant named by model.attention_base (softmax or random_markov).
#include <torch/torch.h>

#include "model/attention/attention_matrix.h"

namespace sigprop {
namespace {

class GapRemovedAttention : public AttentionMatrixImpl {
 public:
  GapRemovedAttention(AttentionMatrix base, bool causal) : causal_(causal) {
    base_ = register_module("base", std::move(base));
  }
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) override {
    auto A = base_->forward(q, k);  // (B, H, T, T)
    return A - uniform_attention_matrix(A.size(-2), causal_, A.options());
  }
  // A softmax base stays a softmax form: the removed matrix joins its constant offset C.
  std::optional<SoftmaxForm> softmax_form(int64_t T, const torch::TensorOptions& options) override {
    auto form = base_->softmax_form(T, options);
    if (!form) return form;
    const auto U = uniform_attention_matrix(T, causal_, options);
    form->offset = form->offset.defined() ? form->offset - U : -U;
    return form;
  }

 private:
  AttentionMatrix base_{nullptr};
  bool causal_;
};

}  // namespace

AttentionMatrix make_gap_removed_attention(const AttentionOptions& o) {
  return make_module<AttentionMatrix, GapRemovedAttention>(
      make_base_attention_matrix(o), o.causal());
}

}  // namespace sigprop
