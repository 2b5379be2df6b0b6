// `sigprop theory tat`: Tailored Activation Transformation for leaky ReLU (Zhang et al. 2022), as
// used by He et al. 2023 (paper 001) to make deep transformers without shortcuts trainable.
//
// φ_α(x) = √(2/(1+α²))·max(x, αx) has the correlation map (math/tat.h)
//   C_α(c) = c + (1−α)²/(π(1+α²))·(√(1−c²) − c·arccos c),
// and a skipless chain of N such layers with orthogonal weights maps input correlation c₀ to
// C_α^{∘N}(c₀); TAT picks α with C_α^{∘N}(0) = η. For the vanilla transformer of paper 001 (no
// skips, no norm, W_Q = 0, orthogonal W_V W_O, E-SPA attention A_l) the token kernel follows
//   Σ ← A_l Σ A_lᵀ (attention),  Σ_ij ← √(Σ_ii Σ_jj)·C_α(Σ_ij/√(Σ_ii Σ_jj)) (MLP),  Σ₀ = I.
// This study tabulates the maps and solved slopes and measures both networks at initialisation.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sigprop {

struct TatStudyOptions {
  std::vector<double> slopes{0.0, 0.25, 0.5, 0.75, 1.0};                  // C-map curves
  std::vector<int> nonlinearities{4, 8, 12, 13, 16, 18, 24, 36, 48, 72};  // slope table N
  std::vector<double> etas{0.5, 0.7, 0.9};                                // slope table η
  double eta = 0.9;  // η of the C^{∘N} curves and the measured networks
  std::vector<int> curve_ns{13, 18, 24, 36, 72};
  int depth = 24;                  // N of the measured MLP and transformer
  int width = 256, networks = 16;  // the deep vanilla MLP (Haar-orthogonal weights)
  std::vector<double> c0s{0.0, 0.3, 0.6, 0.9};
  int transformer_width = 256, seq = 32, batch = 2;  // preset vanilla-espa-tat, raw input
  int transformers = 8;  // independent initialisations of the transformer
  uint64_t seed = 0;
};
void validate(const TatStudyOptions& o);  // throws ConfigError naming the option

struct TatSlopeCell {
  int n = 0;
  double eta = 0;
  double slope = 0;      // NaN when η is unreachable with N nonlinearities
  double reachable = 0;  // the ReLU chain's C^{∘N}(0), the largest reachable η
};

struct TatCurve {
  std::string label;
  double slope = 0;
  int n = 1;                   // iterations of C_α
  std::vector<double> values;  // on TatStudy::grid
};

struct TatMlpRow {
  double c0 = 0;
  int layer = 0;
  double predicted = 0;                  // C_α^{∘layer}(c0)
  double measured = 0, measured_sd = 0;  // over networks
};

struct TatKernelRow {
  int layer = 0;
  double predicted_mean_rho = 0, measured_mean_rho = 0;  // mean over token pairs i ≠ j
  double mean_abs_error = 0;  // mean over pairs of |mean measured ρ_ij − predicted ρ_ij|
};

struct TatStudy {
  TatStudyOptions options;
  std::vector<double> grid;        // c in [−1, 1]
  std::vector<TatCurve> cmaps;     // C_α for each slope
  std::vector<TatCurve> iterates;  // C_α^{∘N} with α solved for (η, N)
  std::vector<TatSlopeCell> table;
  double slope = 0;  // α for (η, depth): the measured networks'
  std::vector<TatMlpRow> mlp;
  std::vector<TatKernelRow> transformer;
  double mlp_max_error = 0;          // max over layers and c0 of |measured − predicted|
  double transformer_max_error = 0;  // max over layers of the mean |Δρ|
};

TatStudy run_tat_study(const TatStudyOptions& o,
                       const std::function<void(int, int, const std::string&)>& progress = nullptr);

}  // namespace sigprop
