// A `sigprop train` run folder (train/trainer.h) read from outside the trainer: its config, its
// trained model, its validation loss, its weights exported as safetensors; and a run started
// from a model built elsewhere (the Python front's sigprop.save).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/model_spec.h"
#include "model/transformer.h"
#include "train/train_config.h"
#include "train/trainer.h"

namespace sigprop {

struct RunConfig {
  ModelSpec spec;     // as built: adapted to the run's data
  TrainConfig train;
};
// run.json of the run in `dir`. Throws ConfigError when `dir` is not a run folder (naming
// `option`, the argument that named it), DataError when run.json is malformed.
RunConfig read_run_config(const std::string& dir, const std::string& option = "run folder");

// The run's model with the weights of its last checkpoint; `step` receives the step it holds.
// Throws DataError when the run has no checkpoint yet or it does not fit the config.
Transformer load_run_model(const std::string& dir, int64_t* step = nullptr);

// `model` on the run's own held-out batches, as the trainer evaluates (summary.json's val_loss).
Evaluation evaluate_run(TransformerImpl& model, const std::string& dir);

// A new run in `dir` that starts from `model`'s weights: `sigprop train --resume dir` trains it.
void save_run(const TransformerImpl& model, const TrainConfig& config, const std::string& dir);

// Writes the run's last checkpoint in `format` ("safetensors": model.safetensors, tensors named
// as the model's parameters and buffers, plus config.json, the model's spec) into `out` (the run
// folder when empty). Returns the paths written.
std::vector<std::string> export_run(const std::string& dir, const std::string& format,
                                    const std::string& out = "");

}  // namespace sigprop
