// Uniform attention A = Π = (1/T) 1 1^T, or the uniform causal matrix (row i holds 1/i on
// positions <= i): the W_Q = 0 limit used in the gradient analysis of paper 002 (Noci et al.).
#include <torch/torch.h>

#include "config/model_spec.h"
#include "model/attention/variants.h"

namespace sigprop {
namespace {

class UniformAttention : public AttentionMatrixImpl {
 public:
  explicit UniformAttention(bool causal) : causal_(causal) {}
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) override {
    auto zeros = torch::zeros({q.size(0), q.size(1), q.size(2), k.size(2)}, q.options());
    if (causal_) zeros.masked_fill_(causal_mask(q.size(2), q.device()), -INFINITY);
    return torch::softmax(zeros, -1);  // (B, H, T, T)
  }

 private:
  bool causal_;
};

}  // namespace

AttentionMatrix make_uniform_attention(const AttentionContext& ctx) {
  return std::make_shared<UniformAttention>(ctx.spec.causal);
}

}  // namespace sigprop
