// Shaped attention (Noci, Li, Li, He, Hofmann, Maddison & Roy 2023, paper 004):
//   A = I + softmax(q k^T / τ) − C,  τ = τ₀ √(n · n_k),
// C the uniform matrix (or uniform causal). With weights of variance 1/n, q = Y W_Q is the
// paper's Y W_Q/√n, so the logits are q·k / (τ₀ √(n n_k)): softmax is a 1/√n perturbation of
// uniform, A stays near I, and the covariance has a depth-to-width SDE limit.
#include <cmath>

#include <torch/torch.h>

#include "model/attention/attention_matrix.h"

namespace sigprop {
namespace {

class ShapedAttention : public AttentionMatrixImpl {
 public:
  ShapedAttention(double tau, bool causal) : tau_(tau), causal_(causal) {}
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) override {
    return softmax_form_matrix(*softmax_form(q.size(2), q.options()), q, k);  // (B, H, T, T)
  }
  std::optional<SoftmaxForm> softmax_form(int64_t T, const torch::TensorOptions& options) override {
    const auto C = uniform_attention_matrix(T, causal_, options);
    return SoftmaxForm{1.0 / tau_, causal_, {}, {}, torch::eye(T, options) - C};
  }

 private:
  double tau_;
  bool causal_;
};

}  // namespace

AttentionMatrix make_shaped_attention(const AttentionOptions& o) {
  const double tau = o.shaped_tau0() * std::sqrt(double(o.width()) * o.d_k());
  return make_module<AttentionMatrix, ShapedAttention>(tau, o.causal());
}

}  // namespace sigprop
