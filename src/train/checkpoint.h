// Checkpoints: model parameters and buffers, optimiser state and the step count, in one LibTorch
// archive written atomically (temporary file, then rename), so a crash or kill during a save
// leaves the previous checkpoint intact and loadable.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace sigprop {

// Written into every checkpoint. Format 1: sigprop on LibTorch 1.13. Format 2: LibTorch 2.x, whose
// optimisers key their state differently (a format-1 optimiser archive read by 2.x hands
// parameters each other's moments, or none), so a format-1 checkpoint gives its weights only.
inline constexpr int64_t kCheckpointFormat = 2;

void save_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, int64_t step);
// Loads into `model` and `optimizer` (built with the run's config); returns the step.
// Throws DataError naming the file when it is missing, corrupt, from another model, or of a
// format whose optimiser state cannot be read (format 1).
int64_t load_checkpoint(const std::string& path, torch::nn::Module& model,
                        torch::optim::Optimizer& optimizer);
// The model's part alone (to use or export a trained model); returns the step.
int64_t load_checkpoint_model(const std::string& path, torch::nn::Module& model);

}  // namespace sigprop
