// Factories of the attention variants; registered in model/attention_registry.cpp.
#pragma once

#include "model/attention.h"

namespace sigprop {

AttentionMatrix make_softmax_attention(const AttentionContext& ctx);
AttentionMatrix make_uniform_attention(const AttentionContext& ctx);

}  // namespace sigprop
