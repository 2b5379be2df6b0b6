#include "probe/metrics.h"

#include <cmath>
#include <limits>

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

double stable_rank(const torch::Tensor& X_) {
  auto s = torch::linalg_svdvals(f64(X_));  // (B, min(T, d)), descending
  return (s.pow(2).sum(-1) / s.select(-1, 0).pow(2).clamp_min(1e-300)).mean().item<double>();
}

double gram_stable_rank(const torch::Tensor& X_) {
  // Singular values of X X^T are s^2, so |XX^T|_F^2 / |XX^T|_2^2 = sum s^4 / s_1^4.
  auto s2 = torch::linalg_svdvals(f64(X_)).pow(2);
  return (s2.pow(2).sum(-1) / s2.select(-1, 0).pow(2).clamp_min(1e-300)).mean().item<double>();
}

AttentionSpectrum attention_spectrum(const torch::Tensor& A_) {
  auto A = f64(A_).flatten(0, 1);  // (B*H, T, T)
  AttentionSpectrum out;
  auto s = torch::linalg_svdvals(A);
  out.sigma1 = s.select(-1, 0).mean().item<double>();
  out.sigma2 = A.size(-1) > 1 ? s.select(-1, 1).mean().item<double>() : 0.0;
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
