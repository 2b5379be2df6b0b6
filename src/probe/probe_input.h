// The batch a probe feeds the model at initialisation.
//   kjv: a real batch of King James Bible text (token input, next-character targets);
//   gaussian: raw X with i.i.d. N(0, 1) entries;
//   isometric: raw X with orthonormal rows times √d, so X X^T = d·I (paper 003's input).
// Raw inputs get an N(0, 1) regression target of the output's shape.
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "config/model_spec.h"
#include "data/dataset.h"

namespace sigprop {

struct CharCorpus;

enum class ProbeInput { KJV, Gaussian, Isometric };
ProbeInput parse_probe_input(const std::string& name);  // throws ConfigError
std::string to_string(ProbeInput input);

// (B, T) int64 tokens or (B, T, d) raw inputs; (B, T) next tokens or (B, T, d) targets.
using ProbeBatch = Batch;

// The spec adjusted to the input: token input sized to the corpus vocabulary, or raw input.
ModelSpec spec_for_probe_input(ModelSpec spec, ProbeInput input, int64_t seq, int64_t vocab);

// Draws a batch; depends only on (input, width, batch, seq, seed), not on the model, so every
// preset sees the same data for a given seed. `corpus` is required for kjv.
ProbeBatch make_probe_batch(ProbeInput input, int64_t width, int64_t batch, int64_t seq,
                            uint64_t seed, const CharCorpus* corpus);

}  // namespace sigprop
