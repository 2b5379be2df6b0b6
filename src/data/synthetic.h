// A copy task for fast tests: each sequence is T/2 random tokens followed by the same tokens
// again, trained as next-token prediction. The first half is unpredictable (loss ln V per
// token); the second half can be learned exactly by attention, so the achievable loss is about
// half of ln V.
#pragma once

#include <memory>

#include "data/dataset.h"

namespace sigprop {

constexpr int64_t kSyntheticVocab = 16;
std::unique_ptr<Dataset> make_synthetic_dataset(int64_t seq);

}  // namespace sigprop
