// Batched small covariance matrices, the state of the shaped-transformer theory (paper 004):
// V = Y Yᵀ/n for m tokens, its correlations, square roots, and the vech layout (upper triangle,
// row by row) in which the SDE's diffusion Σ(V) is an m(m+1)/2 × m(m+1)/2 matrix. float64.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace sigprop {

// (1 − ρ₀) I + ρ₀ 1 1ᵀ: m tokens of unit norm with pairwise correlation ρ₀; (m, m) float64.
// Throws ConfigError unless m ≥ 2 and −1/(m−1) < ρ₀ < 1 (positive definite).
torch::Tensor equicorrelated(int64_t m, double rho0);

// ρ_ij = V_ij / √(V_ii V_jj): (..., m, m) -> (..., m, m).
torch::Tensor correlation_matrix(const torch::Tensor& V);

// ρ_01 of each matrix in a batch (P, m, m), as plain numbers.
std::vector<double> first_pair_correlation(const torch::Tensor& V);

// Mean over the batch and over i < j of ρ_ij; NaN for an empty batch.
double mean_offdiagonal_correlation(const torch::Tensor& V);

// Symmetric PSD square root through the eigendecomposition, negative eigenvalues clipped to 0
// (docs/methods.md, 004): S = Q Λ Qᵀ -> Q max(Λ, 0)^{1/2} Qᵀ. (..., k, k).
torch::Tensor psd_sqrt(const torch::Tensor& S);

// Some R with R Rᵀ = V: the Cholesky factor, or psd_sqrt(V) for the whole batch when any
// matrix is not numerically positive definite (a collapsed, rank-deficient V). (..., m, m).
torch::Tensor square_root_factor(const torch::Tensor& V);

// The vech layout for m tokens: pairs (a, b), a ≤ b, in row-major upper-triangle order.
std::vector<std::pair<int64_t, int64_t>> vech_pairs(int64_t m);

// vech: (P, m, m) -> (P, D); unvech of a symmetric increment: (P, D) -> (P, m, m).
torch::Tensor vech(const torch::Tensor& V);
torch::Tensor unvech(const torch::Tensor& v, int64_t m);

}  // namespace sigprop
