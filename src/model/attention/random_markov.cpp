// Random Markov attention (Naderi, Nait Saada & Tanner 2024, paper 003): A = softmax(G) row-wise
// with i.i.d. G_ij ~ N(−ln2/2, ln2), so e^G has mean 1 and variance 1. Input-independent: G is
// drawn once per layer and head at construction, for max_seq positions; a shorter sequence uses
// its leading T x T block.
#include <cmath>

#include <torch/torch.h>

#include "model/attention/attention_matrix.h"

namespace sigprop {
namespace {

class RandomMarkovAttention : public AttentionMatrixImpl {
 public:
  RandomMarkovAttention(int64_t heads, int64_t max_seq, bool causal) : causal_(causal) {
    const double var = std::log(2.0);
    logits_ = register_buffer(
        "logits", torch::randn({heads, max_seq, max_seq}) * std::sqrt(var) - var / 2.0);
  }
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) override {
    const int64_t B = q.size(0), T = q.size(2);
    auto g = logits_.narrow(1, 0, T).narrow(2, 0, k.size(2));  // (H, T, T)
    if (causal_) g = g.masked_fill(causal_mask(T, g.device()), -INFINITY);
    return torch::softmax(g, -1).unsqueeze(0).expand({B, -1, -1, -1});  // (B, H, T, T)
  }

 private:
  bool causal_;
  torch::Tensor logits_;
};

}  // namespace

AttentionMatrix make_random_markov_attention(const AttentionOptions& o) {
  return make_module<AttentionMatrix, RandomMarkovAttention>(o.heads(), o.max_seq(), o.causal());
}

}  // namespace sigprop
