// Factories of the attention variants; registered in model/attention_registry.cpp.
#pragma once

#include "config/model_spec.h"
#include "model/attention.h"

namespace sigprop {

AttentionMatrix make_softmax_attention(const AttentionContext& ctx);
AttentionMatrix make_uniform_attention(const AttentionContext& ctx);
AttentionMatrix make_random_markov_attention(const AttentionContext& ctx);
AttentionMatrix make_gap_removed_attention(const AttentionContext& ctx);
AttentionMatrix make_shaped_attention(const AttentionContext& ctx);
AttentionMatrix make_value_skipinit_attention(const AttentionContext& ctx);
AttentionMatrix make_espa_attention(const AttentionContext& ctx);
AttentionMatrix make_uspa_attention(const AttentionContext& ctx);

// SPA's A_l (1-based layer l of spec.depth) for T tokens, float64: what an espa/uspa block
// applies at initialisation when W_Q = 0.
torch::Tensor spa_layer_matrix(const ModelSpec& spec, int64_t T, int l);

}  // namespace sigprop
