// Checkpoints: model parameters and buffers, optimiser state and the step count, in one LibTorch
// archive written atomically (temporary file, then rename), so a crash or kill during a save
// leaves the previous checkpoint intact and loadable.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace sigprop {

void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, int64_t step);
// Loads into `model` and `optimizer` (built with the run's config); returns the step.
// Throws DataError naming the file when it is missing, corrupt or from another model.
int64_t load_checkpoint(const std::string& path, torch::nn::Module& model,
                        torch::optim::Optimizer& optimizer);
// The model's part alone (to use or export a trained model); returns the step.
int64_t load_checkpoint_model(const std::string& path, torch::nn::Module& model);

}  // namespace sigprop
