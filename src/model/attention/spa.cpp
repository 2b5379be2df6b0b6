// E-SPA and U-SPA (He et al. 2023, paper 001): attention built so that, with W_Q = 0 at init,
// block l applies the signal-preserving A_l = L_l L_{l−1}^{−1} (theory/spa.h):
//   A_l(X) = D_l · softmax(q k^T / √d_k + B_l),  B_l = log(D_l^{−1} A_l),  D_l = diag(A_l 1).
// E-SPA targets (Σ_l)_ij = exp(−γ_l |i−j|) (γ_l from model.espa_gamma = γ_L); U-SPA targets
// (1−ρ_l) I + ρ_l 1 1^T (ρ_l from model.uspa_rho = ρ_L). B_l and D_l are computed in float64 for
// each sequence length met, and cached.
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <torch/torch.h>

#include "config/model_spec.h"
#include "model/attention/variants.h"
#include "theory/spa.h"

namespace sigprop {

// The target kernel Σ_l of `spec`'s SPA variant at layer l (0 = input, Σ_0 = I).
torch::Tensor spa_target(const ModelSpec& spec, int64_t T, int l) {
  if (spec.attention == "uspa") return uspa_kernel(T, uspa_rho_schedule(l, spec.depth, spec.uspa_rho));
  return espa_kernel(T, espa_gamma_schedule(l, spec.depth, spec.espa_gamma));
}

torch::Tensor spa_layer_matrix(const ModelSpec& spec, int64_t T, int l) {
  return spa_attention(spa_target(spec, T, l - 1), spa_target(spec, T, l), spec.causal);
}

namespace {

class SpaAttention : public AttentionMatrixImpl {
 public:
  SpaAttention(const ModelSpec& spec, int layer) : spec_(spec), l_(layer + 1) {
    realisation(spec.max_seq);  // fail at construction, not mid-run, on a negative A_l
  }
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k) override {
    return softmax_form_matrix(*softmax_form(q.size(2), q.options()), q, k);  // (B, H, T, T)
  }
  // B_l carries the causal mask itself (log 0 = −inf above the diagonal of a causal A_l).
  std::optional<SoftmaxForm> softmax_form(int64_t T, const torch::TensorOptions& options) override {
    const auto& r = realisation(T);
    return SoftmaxForm{1.0 / std::sqrt(double(spec_.key_width())), false, r.bias.to(options),
                       r.scale.to(options), {}};
  }

 private:
  const SoftmaxRealisation& realisation(int64_t T) {
    auto it = cache_.find(T);
    if (it != cache_.end()) return it->second;
    torch::NoGradGuard no_grad;
    auto A = spa_layer_matrix(spec_, T, l_);
    auto r = softmax_realisation(
        A, fmt::format("{} A_{} (layer {} of {}, T = {})", spec_.attention, l_, l_, spec_.depth, T));
    return cache_.emplace(T, r).first->second;
  }

  ModelSpec spec_;
  int l_;  // 1-based layer index of the paper
  std::map<int64_t, SoftmaxRealisation> cache_;
};

}  // namespace

AttentionMatrix make_espa_attention(const AttentionContext& ctx) {
  return std::make_shared<SpaAttention>(ctx.spec, ctx.layer);
}
AttentionMatrix make_uspa_attention(const AttentionContext& ctx) {
  return std::make_shared<SpaAttention>(ctx.spec, ctx.layer);
}

}  // namespace sigprop
