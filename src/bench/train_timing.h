// Timing training steps for the benchmark. The harness writes one folder per case, read by both
// sides: spec.json ({"model", "train", "case"}) and inputs.safetensors (initial weights by sigprop's
// parameter names, "input" and "target" of the one batch every step trains on).
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_case.h"

namespace sigprop {

// Builds the case's model (seeded init) and a batch of random tokens, and writes the folder.
void write_bench_inputs(const std::string& dir, const BenchCase& c, uint64_t seed);

struct TrainTiming {
  std::vector<double> seconds;         // each timed step
  double first_loss = 0, last_loss = 0;  // the first and last step's loss: the peers must agree
};

// sigprop's side: loads the folder, runs `warmup` untimed and `steps` timed train_step calls
// (AdamW, the trainer's own step).
TrainTiming time_train_steps(const std::string& dir, const torch::Device& device);

}  // namespace sigprop
