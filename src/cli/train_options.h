// Command-line options of a training run, shared by `train` and `race`.
#pragma once

#include <CLI/CLI.hpp>

#include "train/train_config.h"

namespace sigprop::cli {

// Adds --data --steps --batch --seq --lr --optimizer --weight-decay --warmup --schedule --clip
// --seed --log-every --eval-every --eval-batches --probe-every --checkpoint-every.
void add_train_options(CLI::App* cmd, TrainConfig& config);

}  // namespace sigprop::cli
