// Standard scaled dot-product attention, A = softmax(q k^T / sqrt(d_k)) (Vaswani et al. 2017):
// row-stochastic, A 1 = 1, the source of rank collapse studied by all five papers.
#include <cmath>

#include <torch/torch.h>

#include "model/attention/attention_matrix.h"

namespace sigprop {
namespace {

class SoftmaxAttention : public AttentionMatrixImpl {
 public:
  SoftmaxAttention(int64_t d_k, bool causal) : scale_(1.0 / std::sqrt(double(d_k))), causal_(causal) {}
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) override {
    return softmax_form_matrix(form(), q, k);  // (B, H, T, T)
  }
  std::optional<SoftmaxForm> softmax_form(int64_t, const torch::TensorOptions&) override {
    return form();
  }

 private:
  SoftmaxForm form() const { return {scale_, causal_, {}, {}, {}}; }
  double scale_;
  bool causal_;
};

}  // namespace

AttentionMatrix make_softmax_attention(const AttentionOptions& o) {
  return make_module<AttentionMatrix, SoftmaxAttention>(o.d_k(), o.causal());
}

}  // namespace sigprop
