// Standard scaled dot-product attention, A = softmax(q k^T / sqrt(d_k)) (Vaswani et al. 2017):
// row-stochastic, A 1 = 1, the source of rank collapse studied by all five papers.
#include <torch/torch.h>

#include "config/model_spec.h"
#include "model/attention/variants.h"

namespace sigprop {
namespace {

class SoftmaxAttention : public AttentionMatrixImpl {
 public:
  explicit SoftmaxAttention(bool causal) : causal_(causal) {}
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) override {
    return torch::softmax(attention_logits(q, k, causal_), -1);  // (B, H, T, T)
  }

 private:
  bool causal_;
};

}  // namespace

AttentionMatrix make_softmax_attention(const AttentionContext& ctx) {
  return std::make_shared<SoftmaxAttention>(ctx.spec.causal);
}

}  // namespace sigprop
