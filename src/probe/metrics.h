// Signal-propagation metrics of one layer (docs/methods.md#metrics). Each takes a batch
// and returns the mean over the batch (and heads), computed in float64.
//   X: (B, T, d) token representations;  A: (B, H, T, T) attention matrices.
#pragma once

#include <torch/types.h>

namespace sigprop {

struct TokenMetrics {
  // Mean over i != j of <x_i, x_j> / (|x_i| |x_j|). Rank collapse: -> 1 (papers 000, 002).
  double cosine = 0;
  // t_sim(X) = |Π X|_F^2 / |X|_F^2 = T |x̄|^2 / |X|_F^2, Π = (1/T) 1 1^T (paper 000; docs/methods.md's
  // guess at its exact form). t_div = 1 - t_sim.
  double t_sim = 0;
  // res(X) = |X - 1 x̄^T|_F / |X|_F, distance to the collapsed matrix (Dong et al., used by 002).
  double res = 0;
  // sr(X) = |X|_F^2 / |X|_2^2.
  double stable_rank = 0;
  // sr of the Gram matrix, |X X^T|_F^2 / |X X^T|_2^2 (paper 003's code).
  double gram_stable_rank = 0;
  // sr((I − Π) X): the stable rank of the tokens around their mean. Tokens collapsed onto ±v
  // about the mean read cosine ≈ −1/(T−1) and t_sim ≈ 0 ("healthy") but give 1 here.
  double centred_stable_rank = 0;
};

// Every token metric of X from one float64 copy, one Gram matrix and one eigenvalue problem per
// batch item.
TokenMetrics token_metrics(const torch::Tensor& X);

// The stable ranks alone (theory code asks for nothing else).
double stable_rank(const torch::Tensor& X);
double gram_stable_rank(const torch::Tensor& X);

struct AttentionSpectrum {
  double sigma1 = 0, sigma2 = 0;  // two largest singular values of A
  double lambda2 = 0;             // second largest |eigenvalue| of A
  double entropy = 0;             // mean row entropy (nats); NaN if A has negative entries
};
AttentionSpectrum attention_spectrum(const torch::Tensor& A);

}  // namespace sigprop
