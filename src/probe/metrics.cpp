#include "probe/metrics.h"

#include <cmath>
#include <limits>
#include <utility>

#include <torch/torch.h>

namespace sigprop {
namespace {

torch::Tensor f64(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kDouble); }

// Per-batch-element squared Frobenius norm of (B, T, d): (B)
torch::Tensor frob2(const torch::Tensor& X) { return X.pow(2).sum({-2, -1}); }

}  // namespace

double mean_token_cosine(const torch::Tensor& X_) {
  auto X = f64(X_);
  const int64_t T = X.size(1);
  if (T < 2) return 1.0;
  auto U = X / X.norm(2, -1, /*keepdim=*/true).clamp_min(1e-300);  // unit tokens
  auto G = torch::matmul(U, U.transpose(1, 2));                    // (B, T, T) cosines
  auto off = G.sum({1, 2}) - G.diagonal(0, 1, 2).sum(-1);
  return (off / double(T * (T - 1))).mean().item<double>();
}

double token_similarity(const torch::Tensor& X_) {
  auto X = f64(X_);
  const double T = X.size(1);
  auto mean_token = X.mean(1);  // (B, d)
  return (T * mean_token.pow(2).sum(-1) / frob2(X).clamp_min(1e-300)).mean().item<double>();
}

double collapse_residual(const torch::Tensor& X_) {
  auto X = f64(X_);
  auto centred = X - X.mean(1, /*keepdim=*/true);
  return (frob2(centred).sqrt() / frob2(X).sqrt().clamp_min(1e-300)).mean().item<double>();
}

// Largest eigenvalue of the smaller Gram matrix of each (T, d) item, X Xᵀ or Xᵀ X: their nonzero
// eigenvalues are the squared singular values s_i², so λ_max = |X|_2². A symmetric
// eigensolver on the Gram is several times cheaper than an SVD of X, and the ranks below need
// nothing else from the spectrum: Σ s_i² = |X|_F² and Σ s_i⁴ = |X Xᵀ|_F². Returns (B, 1) and G.
std::pair<torch::Tensor, torch::Tensor> gram_top_eigenvalue(const torch::Tensor& X) {
  auto G = X.size(-2) <= X.size(-1) ? torch::matmul(X, X.transpose(-2, -1))
                                    : torch::matmul(X.transpose(-2, -1), X);
  auto top = torch::linalg_eigvalsh(G).narrow(-1, -1, 1).clamp_min(1e-300);  // ascending
  return {top, G};
}

double stable_rank(const torch::Tensor& X_) {
  auto X = f64(X_);
  const auto top = gram_top_eigenvalue(X).first.squeeze(-1);
  return (frob2(X) / top).mean().item<double>();
}

double gram_stable_rank(const torch::Tensor& X_) {
  auto [top, G] = gram_top_eigenvalue(f64(X_));
  return (frob2(G) / top.squeeze(-1).pow(2)).mean().item<double>();
}

AttentionSpectrum attention_spectrum(const torch::Tensor& A_) {
  auto A = f64(A_).flatten(0, 1);  // (B*H, T, T)
  AttentionSpectrum out;
  // σ₁ ≥ σ₂ are the square roots of the two largest eigenvalues of A Aᵀ (symmetric: cheap).
  auto s2 = torch::linalg_eigvalsh(torch::matmul(A, A.transpose(-2, -1))).clamp_min(0);
  const int64_t T = A.size(-1);
  out.sigma1 = s2.select(-1, T - 1).sqrt().mean().item<double>();
  out.sigma2 = T > 1 ? s2.select(-1, T - 2).sqrt().mean().item<double>() : 0.0;
  if (A.size(-1) > 1) {
    auto mags = std::get<0>(torch::linalg_eigvals(A).abs().sort(-1, /*descending=*/true));
    out.lambda2 = mags.select(-1, 1).mean().item<double>();
  }
  if ((A < 0).any().item<bool>()) {
    out.entropy = std::numeric_limits<double>::quiet_NaN();
  } else {
    auto plogp = torch::where(A > 0, A * A.log(), torch::zeros_like(A));
    out.entropy = (-plogp.sum(-1)).mean().item<double>();
  }
  return out;
}

}  // namespace sigprop
