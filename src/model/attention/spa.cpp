// E-SPA and U-SPA (He et al. 2023, paper 001): attention built so that, with W_Q = 0 at init,
// block l applies the signal-preserving A_l = L_l L_{l−1}^{−1} (math/spa.h):
//   A_l(X) = D_l · softmax(q k^T / √d_k + B_l),  B_l = log(D_l^{−1} A_l),  D_l = diag(A_l 1).
// E-SPA targets (Σ_l)_ij = exp(−γ_l |i−j|) (γ_l from model.espa_gamma = γ_L); U-SPA targets
// (1−ρ_l) I + ρ_l 1 1^T (ρ_l from model.uspa_rho = ρ_L). B_l and D_l are computed in float64 for
// each sequence length met, and cached.
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <torch/torch.h>

#include "model/attention/attention_matrix.h"
#include "math/spa.h"

namespace sigprop {

namespace {

// The target kernel Σ_l of the SPA variant `o` names at layer l (0 = input, Σ_0 = I).
torch::Tensor spa_target(const AttentionOptions& o, int64_t T, int l) {
  if (o.variant() == "uspa") return uspa_kernel(T, uspa_rho_schedule(l, o.depth(), o.uspa_rho()));
  return espa_kernel(T, espa_gamma_schedule(l, o.depth(), o.espa_gamma()));
}

}  // namespace

torch::Tensor spa_layer_matrix(const AttentionOptions& o, int64_t T, int l) {
  return spa_attention(spa_target(o, T, l - 1), spa_target(o, T, l), o.causal());
}

namespace {

class SpaAttention : public AttentionMatrixImpl {
 public:
  explicit SpaAttention(const AttentionOptions& o) : o_(o), l_(o.layer() + 1) {
    realisation(o.max_seq());  // fail at construction, not mid-run, on a negative A_l
  }
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) override {
    return softmax_form_matrix(*softmax_form(q.size(2), q.options()), q, k);  // (B, H, T, T)
  }
  // B_l carries the causal mask itself (log 0 = −inf above the diagonal of a causal A_l).
  std::optional<SoftmaxForm> softmax_form(int64_t T, const torch::TensorOptions& options) override {
    const auto& r = realisation(T);
    return SoftmaxForm{1.0 / std::sqrt(double(o_.d_k())), false, r.bias.to(options),
                       r.scale.to(options), {}};
  }

 private:
  const SoftmaxRealisation& realisation(int64_t T) {
    auto it = cache_.find(T);
    if (it != cache_.end()) return it->second;
    torch::NoGradGuard no_grad;
    auto A = spa_layer_matrix(o_, T, l_);
    auto r = softmax_realisation(
        A, fmt::format("{} A_{} (layer {} of {}, T = {})", o_.variant(), l_, l_, o_.depth(), T));
    return cache_.emplace(T, r).first->second;
  }

  AttentionOptions o_;
  int l_;  // 1-based layer index of the paper
  std::map<int64_t, SoftmaxRealisation> cache_;
};

}  // namespace

AttentionMatrix make_espa_attention(const AttentionOptions& o) {
  return make_module<AttentionMatrix, SpaAttention>(o);
}
AttentionMatrix make_uspa_attention(const AttentionOptions& o) {
  return make_module<AttentionMatrix, SpaAttention>(o);
}

}  // namespace sigprop
