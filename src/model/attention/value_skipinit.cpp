// Value-SkipInit (He et al. 2023, paper 001): A ← α I + β A with trainable scalars, α = 1 and
// β = 0 at initialisation, so each attention layer starts as the identity on the values.
// The base A is the variant named by model.attention_base.
#include <torch/torch.h>

#include "model/attention/attention_matrix.h"

namespace sigprop {
namespace {

class ValueSkipInitAttention : public AttentionMatrixImpl {
 public:
  explicit ValueSkipInitAttention(AttentionMatrix base) {
    base_ = register_module("base", std::move(base));
    alpha = register_parameter("alpha", torch::ones({1}));
    beta = register_parameter("beta", torch::zeros({1}));
  }
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) override {
    auto A = base_->forward(q, k);  // (B, H, T, T)
    return alpha * torch::eye(A.size(-1), A.options()) + beta * A;
  }
  std::optional<IdentityMix> identity_mix() override { return IdentityMix{alpha, beta, base_.get()}; }
  torch::Tensor alpha, beta;

 private:
  AttentionMatrix base_{nullptr};
};

}  // namespace

AttentionMatrix make_value_skipinit_attention(const AttentionOptions& o) {
  return make_module<AttentionMatrix, ValueSkipInitAttention>(make_base_attention_matrix(o));
}

}  // namespace sigprop
