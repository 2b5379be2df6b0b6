#include "probe/metrics.h"

#include <algorithm>
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
  const auto all = A_.detach().flatten(0, 1);  // (B*H, T, T), in its own dtype
  const int64_t N = all.size(0), T = all.size(-1);
  // A causal A is triangular: its eigenvalues are its diagonal, no eigensolver needed.
  const bool tri = T > 1 && triangular(all);
  const bool negative = (all < 0).any().item<bool>();
  // A few matrices at a time: the float64 copies, Gram matrices and eigensolver work of every
  // head at once would be many times the attention itself (about 2 GB for one layer at T = 1024
  // and 32 heads, where the matrices are 128 MB). About 16 MB of float64 per chunk.
  const int64_t chunk = std::max<int64_t>(1, (int64_t(16) << 20) / (T * T * 8));
  double sigma1 = 0, sigma2 = 0, lambda2 = 0, entropy = 0;
  for (int64_t begin = 0; begin < N; begin += chunk) {
    const auto A = f64(all.narrow(0, begin, std::min(chunk, N - begin)));
    // σ₁ ≥ σ₂ are the square roots of the two largest eigenvalues of A Aᵀ (symmetric: cheap).
    const auto s2 = torch::linalg_eigvalsh(gram(A)).clamp_min(0);
    sigma1 += s2.select(-1, T - 1).sqrt().sum().item<double>();
    if (T > 1) {
      sigma2 += s2.select(-1, T - 2).sqrt().sum().item<double>();
      const auto ev = tri ? A.diagonal(0, -2, -1) : torch::linalg_eigvals(A);
      const auto mags = std::get<0>(ev.abs().sort(-1, /*descending=*/true));
      lambda2 += mags.select(-1, 1).sum().item<double>();
    }
    if (!negative) {
      const auto plogp = torch::where(A > 0, A * A.log(), torch::zeros_like(A));
      entropy += (-plogp.sum(-1)).mean(-1).sum().item<double>();
    }
  }
  AttentionSpectrum out;
  out.sigma1 = sigma1 / double(N);
  out.sigma2 = sigma2 / double(N);
  out.lambda2 = lambda2 / double(N);
  out.entropy = negative ? std::numeric_limits<double>::quiet_NaN() : entropy / double(N);
  return out;
}

}  // namespace sigprop
