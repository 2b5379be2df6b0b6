// Everything about a training run except the model: data, budget, optimiser, schedule, logging.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace sigprop {

struct TrainConfig {
  static constexpr int64_t kAutoWarmup = -1;
  std::string data = "kjv";  // kjv | fashion-mnist | synthetic
  int64_t steps = 2000;
  int64_t batch = 12;
  int64_t seq = 64;                  // tokens per sequence (token data)
  double lr = 1e-3;                  // peak learning rate
  std::string optimizer = "adamw";   // adamw | adam | sgd
  double weight_decay = 0.01;        // adamw: decoupled; sgd/adam: L2
  double momentum = 0.9;             // sgd
  int64_t warmup = kAutoWarmup;      // linear warm-up steps; kAutoWarmup: warmup_steps()
  std::string schedule = "cosine";   // cosine | constant (after warm-up)
  double min_lr_ratio = 0.1;         // cosine ends at lr * min_lr_ratio
  double clip = 1.0;                 // global gradient-norm clip; 0 = off
  uint64_t seed = 0;                 // model init and batch order
  int64_t log_every = 10;
  int64_t eval_every = 200;          // 0 = only at the end
  int64_t eval_batches = 20;         // 0 = the whole held-out set
  int64_t probe_every = 0;           // 0 = off
  int64_t checkpoint_every = 500;    // 0 = only at the end
  std::string dtype = "float32";     // float32 | bf16 (autocast of the training steps)

  void validate() const;  // throws ConfigError naming the option
  // The warm-up in steps: `warmup`, or by default a tenth of the run, at most 100 steps, so a
  // short run still spends most of its steps on the schedule.
  int64_t warmup_steps() const;
  // Learning rate before step `step` (0-based): linear warm-up, then cosine or constant.
  double lr_at(int64_t step) const;
};

nlohmann::json train_config_to_json(const TrainConfig& c);
TrainConfig train_config_from_json(const nlohmann::json& j);  // throws DataError if malformed
// The defaults with `overrides` (an object of train_config_to_json's keys) applied, validated.
// Throws ConfigError naming an unknown key (with the allowed ones) or a value of the wrong type.
TrainConfig train_config_with(const nlohmann::json& overrides);

}  // namespace sigprop
