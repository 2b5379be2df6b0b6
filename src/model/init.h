// Initialisation of a freshly built Transformer from its spec.
//   blocks' W_Q, W_K, W_V, W_O, W_1, W_2: normal(0, init_std) | Xavier normal |
//   scaled orthogonal | LeCun normal N(0, 1/fan_in);
//   biases 0; W_Q = 0 when zero_queries (uniform attention at init, papers 001 and 002);
//   residual = deepnorm: W_V, W_O, W_1, W_2 times β = (8L)^{-1/4} (DeepNet, Wang et al. 2022);
//   embeddings N(0, 1), so a token has squared norm ≈ d like a Gaussian raw input;
//   heads N(0, 1/d), so logits are O(1) on normalised features.
#pragma once

namespace sigprop {

struct TransformerImpl;
void initialise(TransformerImpl& model);

}  // namespace sigprop
