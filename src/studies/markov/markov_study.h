// Spectra of attention matrices at initialisation and rank collapse in width (Naderi, Nait Saada
// & Tanner 2024, paper 003).
//
// A row-stochastic A has A1 = 1, so √T·A has the outlier σ₁ ≈ √T (eigenvalue √T exactly). The
// rest: for A = softmax(G) with i.i.d. G, √T·A ≈ (E − m11ᵀ)/(m√T) + 11ᵀ/√T with E = e^G of mean
// m and s.d. σ, so its other singular values follow the quarter-circle law on [0, 2σ/m]
// (density (1/π)√(4 − s²) when σ/m = 1) and its other eigenvalues fill the disk of radius σ/m
// (circular law). Random Markov attention draws G_ij ~ N(−s²/2, s²) with s² = ln 2, so e^G has
// mean 1 and variance 1: σ/m = √(e^{s²} − 1) = 1.
// Gap removal A⊥ = A − (1/T)11ᵀ keeps the bulk and sends the outlier to 0. After one layer
// X₁ = A X₀ W_V (X₀X₀ᵀ = I, W_V ~ N(0, 1)) the stable rank stays near 1 + σ²/m² ≈ 2 for A
// however large T (rank collapse in width) but grows like T/4 for A⊥ (as d/T → ∞).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "math/stats.h"

namespace sigprop {

enum class AttentionDraw { RandomMarkov, KeyQueryXavier, KeyQueryGaussian };
std::string to_string(AttentionDraw k);  // random_markov | kq_xavier | kq_normal
AttentionDraw parse_attention_draw(const std::string& name);
const std::vector<AttentionDraw>& all_attention_draws();

// Rows of a random orthogonal matrix: X Xᵀ = I. (draws, T, d) float64, d ≥ T.
torch::Tensor isometric_rows(int64_t draws, int64_t T, int64_t d, at::Generator& gen);

// A = softmax(G) row-wise, G_ij ~ N(−ln2/2, ln2): (draws, T, T) float64.
torch::Tensor random_markov_matrix(int64_t draws, int64_t T, at::Generator& gen);

// A = softmax(X W_Q (X W_K)ᵀ/√d_k), W ~ N(0, std²) of shape d × d_k: (draws, T, T) float64.
// Xavier: std² = 2/(d + d_k); N(0, 1): std = 1.
torch::Tensor key_query_matrix(const torch::Tensor& X, int64_t d_k, double weight_std,
                               at::Generator& gen);

// A⊥ = A − (1/T) 1 1ᵀ.
torch::Tensor remove_spectral_gap(const torch::Tensor& A);

// σ/m of e^G for Gaussian logits of variance s²: √(e^{s²} − 1).
double lognormal_bulk_scale(double logit_variance);

struct MarkovStudyOptions {
  std::vector<int64_t> seqs{50, 100, 200, 400};  // T
  int64_t draws = 3;                             // matrices per (T, kind)
  double aspect = 4.0;  // d = aspect·T [guess: docs/methods.md's d = T/γ with γ = 1/4]
  std::vector<AttentionDraw> kinds = all_attention_draws();
  int64_t depth = 16;       // the depth study: layers
  int64_t depth_seq = 100;  //                  T
  uint64_t seed = 0;
};
void validate(const MarkovStudyOptions& o);  // throws ConfigError naming the option

// One (T, kind, A or A⊥): means over draws.
struct SpectrumRow {
  int64_t T = 0;
  AttentionDraw kind = AttentionDraw::RandomMarkov;
  bool gap_removed = false;
  double sigma1 = 0, sigma2 = 0;  // largest two singular values of √T·A
  double top_eigenvalue = 0;      // largest |λ| of √T·A
  double scale = 0;               // measured σ/m: r.m.s. of (T·A − 1) over the entries of A
  double scale_theory = 0;        // √(e^{s²} − 1) for the kind's logit variance s²
  double ks_quarter_circle = 0;   // bulk singular values / scale against the law on [0, 2]
  double ks_circular = 0;         // bulk |λ| / scale against the unit-disk law (|λ|² uniform)
  double sr_matrix = 0;           // stable rank of A
  double sr_layer = 0, gram_sr_layer = 0;  // of X₁ = A X₀ W_V, and of X₁X₁ᵀ
};

// The first draw's spectrum, for histograms and scatter plots: √T·A's values, divided by scale.
struct SpectrumSample {
  int64_t T = 0;
  AttentionDraw kind = AttentionDraw::RandomMarkov;
  bool gap_removed = false;
  std::vector<double> singular;        // all T singular values / scale, descending
  std::vector<double> eig_re, eig_im;  // all T eigenvalues / scale
};

// Stable rank after one layer against T, per (kind, A or A⊥): sr = intercept + slope·T.
struct RankSlope {
  AttentionDraw kind = AttentionDraw::RandomMarkov;
  bool gap_removed = false;
  LineFit layer, matrix;  // sr(X₁) and sr(A) against T
};

// Stable rank across depth, T = depth_seq, through sigprop's own attention-only model
// (one head, W_V ~ N(0, 1/d) [guess: variance-preserving so the skip matters], W_O = I, raw
// isometric input ×√d), random_markov or gap_removed attention.
struct DepthRankRow {
  std::string stack;  // plain | skip | ln | skip+ln  (ln = post-LayerNorm)
  bool gap_removed = false;
  int layer = 0;  // 0 = input
  double sr = 0, gram_sr = 0;
};

struct MarkovStudy {
  MarkovStudyOptions options;
  std::vector<SpectrumRow> rows;
  std::vector<SpectrumSample> samples;
  std::vector<RankSlope> slopes;
  std::vector<DepthRankRow> depth_rows;
};

MarkovStudy run_markov_study(
    const MarkovStudyOptions& o,
    const std::function<void(int, int, const std::string&)>& progress = nullptr);

}  // namespace sigprop
