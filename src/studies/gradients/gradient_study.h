// `sigprop theory gradients`: rank collapse kills query/key gradients (Noci et al. 2022,
// paper 002), measured in paper 002's own block beside its uniform-attention formulas.
//
// Block (docs/methods.md 002; no W_O, no biases, LayerNorm without affine at init):
//   post-LN  Z = LN(X + α·S X W_V),      Y = LN(Z + α·relu(Z W₁) W₂)
//   pre-LN   Z = X + α·S LN(X) W_V,      Y = Z + α·relu(LN(Z) W₁) W₂   (final LN on the output)
// with S = softmax(X W_Q (X W_K)ᵀ/√d_k) and W_Q = 0 at init, so S = Π = (1/T)11ᵀ (uniform).
// With output gradient G = ∂O/∂(S X W_V) of i.i.d. entries of variance s² (docs/methods.md: O = ⟨R, A X
// W_V⟩):
//   E|∂O/∂W_Q|²_F = s²·|X|²_F·|W_Kᵀ Xᵀ P X W_V|²_F / (T² d_k),   E|∂O/∂W_V|²_F = s²·T·d_v·|x̄|²,
// X the attention's input, P = I − Π, x̄ its mean token. Query gradients scale with the token
// spread XᵀPX, which rank collapse drives to 0; α = 1/√L keeps it.
// Initialisation [guess: docs/methods.md gives none for 002]: W_K, W_V ~ N(0, 1/d), W₁ ~ N(0, 2/d),
// W₂ ~ N(0, 1/(4d)); input X₀ with N(0, 1) entries.
// Measured: autograd of O = ⟨R, Y_L⟩ with R ~ N(0, 1); s² per layer is the measured mean square of
// G (so the prediction tests the formulas' dependence on X, not the gradient's scale).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sigprop {

struct GradientStudyOptions {
  std::vector<int> depths{4, 8, 16, 32, 64};
  int width = 64;       // d = d_k = d_v, one head
  int seq = 32;         // T
  int batch = 4;        // sequences per network
  int networks = 8;     // independent initialisations per (depth, scaling)
  bool pre_ln = false;  // post-LN (paper 002's main setting) or pre-LN
  bool mlp = true;      // the ReLU MLP sublayer, width 4d
  uint64_t seed = 0;
};
void validate(const GradientStudyOptions& o);  // throws ConfigError naming the option

// One layer: root-mean-square over networks of the gradient norms, measured and predicted.
struct GradientRow {
  int depth = 0;
  bool scaled = false;  // α = 1/√L (else α = 1)
  int layer = 0;        // 1-based block
  double measured_q = 0, measured_v = 0;
  double predicted_q = 0, predicted_v = 0;
  double spread = 0;  // |Xᵀ P X|_F / |X|²_F of the attention input (mean over networks)
};

struct GradientAgreement {
  bool scaled = false;
  double median_log10_q = 0, median_log10_v = 0;  // median over layers and depths of |log10(m/p)|
  double max_log10_q = 0, max_log10_v = 0;
};

struct GradientStudy {
  GradientStudyOptions options;
  std::vector<GradientRow> rows;
  std::vector<GradientAgreement> agreement;  // unscaled, scaled
};

GradientStudy run_gradient_study(
    const GradientStudyOptions& o,
    const std::function<void(int, int, const std::string&)>& progress = nullptr);

}  // namespace sigprop
