// Signal-propagation metrics of one layer (../shared/METHODS.md, "Metrics"). Each takes a batch
// and returns the mean over the batch (and heads), computed in float64.
//   X: (B, T, d) token representations;  A: (B, H, T, T) attention matrices.
#pragma once

#include <torch/types.h>

namespace sigprop {

// Mean over i != j of <x_i, x_j> / (|x_i| |x_j|). Rank collapse: -> 1 (papers 000, 002).
double mean_token_cosine(const torch::Tensor& X);

// t_sim(X) = |Π X|_F^2 / |X|_F^2 = T |x̄|^2 / |X|_F^2, Π = (1/T) 1 1^T (paper 000; METHODS' guess
// at its exact form). t_div = 1 - t_sim.
double token_similarity(const torch::Tensor& X);

// res(X) = |X - 1 x̄^T|_F / |X|_F, distance to the collapsed matrix (Dong et al., used by 002).
double collapse_residual(const torch::Tensor& X);

// sr(X) = |X|_F^2 / |X|_2^2.
double stable_rank(const torch::Tensor& X);

// sr of the Gram matrix, |X X^T|_F^2 / |X X^T|_2^2 (paper 003's code).
double gram_stable_rank(const torch::Tensor& X);

struct AttentionSpectrum {
  double sigma1 = 0, sigma2 = 0;  // two largest singular values of A
  double lambda2 = 0;             // second largest |eigenvalue| of A
  double entropy = 0;             // mean row entropy (nats); NaN if A has negative entries
};
AttentionSpectrum attention_spectrum(const torch::Tensor& A);

}  // namespace sigprop
