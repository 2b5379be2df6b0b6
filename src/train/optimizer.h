// Optimisers by name, and setting the learning rate of every parameter group.
#pragma once

#include <memory>

#include <torch/torch.h>

#include "train/train_config.h"

namespace sigprop {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& config,
                                                        const std::vector<torch::Tensor>& params);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace sigprop
