// Uniform attention A = Π = (1/T) 1 1^T, or the uniform causal matrix: the W_Q = 0 limit used in
// the gradient analysis of paper 002 (Noci et al. 2022).
#include <torch/torch.h>

#include "model/attention/attention_matrix.h"

namespace sigprop {
namespace {

class UniformAttention : public AttentionMatrixImpl {
 public:
  explicit UniformAttention(bool causal) : causal_(causal) {}
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& /*k*/) override {
    const auto A = uniform_attention_matrix(q.size(2), causal_, q.options());
    return A.expand({q.size(0), q.size(1), -1, -1});  // (B, H, T, T)
  }

 private:
  bool causal_;
};

}  // namespace

AttentionMatrix make_uniform_attention(const AttentionOptions& o) {
  return make_module<AttentionMatrix, UniformAttention>(o.causal());
}

}  // namespace sigprop
