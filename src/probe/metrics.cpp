#include "probe/metrics.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

namespace sigprop {
namespace {

torch::Tensor f64(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kDouble); }

// Per-batch-element squared Frobenius norm of (B, m, n): (B)
torch::Tensor frob2(const torch::Tensor& X) { return X.pow(2).sum({-2, -1}); }

torch::Tensor gram(const torch::Tensor& X) { return torch::matmul(X, X.transpose(-2, -1)); }

// The smaller Gram matrix of each (T, d) item, X Xᵀ or Xᵀ X: its eigenvalues are the squared
// singular values s_i² of X (and zeros), so Σ s_i² = tr, Σ s_i⁴ = |Gram|_F², λ_max = |X|_2². A
// symmetric eigensolver on it is several times cheaper than an SVD of X.
torch::Tensor smaller_gram(const torch::Tensor& X) {
  return X.size(-2) <= X.size(-1) ? gram(X) : gram(X.transpose(-2, -1));
}

// Largest eigenvalue of each symmetric matrix of (B, m, m): (B).
torch::Tensor top_eigenvalue(const torch::Tensor& S) {
  return torch::linalg_eigvalsh(S).select(-1, -1).clamp_min(1e-300);  // ascending
}

double stable_rank_of(const torch::Tensor& X, const torch::Tensor& top) {
  return (frob2(X) / top).mean().item<double>();
}

double gram_stable_rank_of(const torch::Tensor& S, const torch::Tensor& top) {
  return (frob2(S) / top.pow(2)).mean().item<double>();
}

// True when every matrix of (N, T, T) is lower or upper triangular, exactly (a causal mask).
bool triangular(const torch::Tensor& A) {
  return !A.triu(1).any().item<bool>() || !A.tril(-1).any().item<bool>();
}

}  // namespace

TokenMetrics token_metrics(const torch::Tensor& X_) {
  auto X = f64(X_);
  const int64_t T = X.size(1);
  TokenMetrics m;
  auto G = gram(X);                          // (B, T, T): <x_i, x_j>
  auto norms2 = G.diagonal(0, -2, -1);       // (B, T): |x_i|²
  auto energy = norms2.sum(-1).clamp_min(1e-300);  // |X|_F²
  if (T < 2) {
    m.cosine = 1.0;
  } else {
    auto inv = norms2.clamp_min(1e-300).rsqrt();
    auto C = G * inv.unsqueeze(-1) * inv.unsqueeze(-2);  // cosines
    auto off = C.sum({-2, -1}) - C.diagonal(0, -2, -1).sum(-1);
    m.cosine = (off / double(T * (T - 1))).mean().item<double>();
  }
  m.t_sim = (G.sum({-2, -1}) / double(T) / energy).mean().item<double>();  // 1ᵀG1 / T = T|x̄|²
  // Directly, not as √(1 − t_sim): near collapse that difference loses every digit.
  auto centred = X - X.mean(1, /*keepdim=*/true);
  m.res = (frob2(centred).sqrt() / energy.sqrt()).mean().item<double>();
  const auto S = T <= X.size(2) ? G : gram(X.transpose(1, 2));
  const auto top = top_eigenvalue(S);
  m.stable_rank = stable_rank_of(X, top);
  m.gram_stable_rank = gram_stable_rank_of(S, top);
  // (I − Π) G (I − Π) is the centred tokens' Gram matrix: from G, without a second product.
  const auto Sc = T <= X.size(2) ? G - G.mean(-1, true) - G.mean(-2, true) + G.mean({-2, -1}, true)
                                 : gram(centred.transpose(1, 2));
  m.centred_stable_rank = stable_rank_of(centred, top_eigenvalue(Sc));
  return m;
}

double stable_rank(const torch::Tensor& X_) {
  auto X = f64(X_);
  return stable_rank_of(X, top_eigenvalue(smaller_gram(X)));
}

double gram_stable_rank(const torch::Tensor& X_) {
  const auto S = smaller_gram(f64(X_));
  return gram_stable_rank_of(S, top_eigenvalue(S));
}

AttentionSpectrum attention_spectrum(const torch::Tensor& A_) {
  auto A = f64(A_).flatten(0, 1);  // (B*H, T, T)
  AttentionSpectrum out;
  // σ₁ ≥ σ₂ are the square roots of the two largest eigenvalues of A Aᵀ (symmetric: cheap).
  auto s2 = torch::linalg_eigvalsh(gram(A)).clamp_min(0);
  const int64_t T = A.size(-1);
  out.sigma1 = s2.select(-1, T - 1).sqrt().mean().item<double>();
  out.sigma2 = T > 1 ? s2.select(-1, T - 2).sqrt().mean().item<double>() : 0.0;
  if (T > 1) {
    // A causal A is triangular: its eigenvalues are its diagonal, no eigensolver needed.
    auto ev = triangular(A) ? A.diagonal(0, -2, -1) : torch::linalg_eigvals(A);
    auto mags = std::get<0>(ev.abs().sort(-1, /*descending=*/true));
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
