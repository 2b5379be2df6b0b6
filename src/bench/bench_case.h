// The benchmark's workloads (issue 7): training steps of named presets at fixed sizes, run once by
// sigprop and once by the PyTorch peer (bench/peer.py) on the same weights and batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/model_spec.h"

namespace sigprop {

struct BenchCase {
  std::string id;           // a, b, c
  std::string description;  // what a reader of the table needs
  ModelSpec spec;
  int64_t batch = 0, seq = 0;
  int warmup = 0, steps = 0;  // untimed, then timed training steps per process
};

// The training-step cases; `quick` shrinks the timed steps (CI smoke mode), not the models.
std::vector<BenchCase> bench_cases(bool quick);
const BenchCase& find_bench_case(const std::vector<BenchCase>& cases, const std::string& id);

// Model FLOPs of one training step per token: 6 N (N = weights of every matrix product, the
// embeddings excluded) + 12 L T d for the two T x T attention products, forward and backward
// (Kaplan et al. 2020 / PaLM's accounting; the causal mask is materialised, so no halving).
double training_flops_per_token(const ModelSpec& spec, int64_t seq);

}  // namespace sigprop
