// One optimiser step of the training loss: the unit both `sigprop train` and the benchmark time.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "config/model_spec.h"
#include "data/dataset.h"
#include "model/transformer.h"

namespace sigprop {

struct StepOutcome {
  double loss = 0, grad_norm = 0;
  bool stepped = false;  // false when the loss or gradient is not finite: parameters untouched
};

// zero_grad, forward, loss, backward, clip the global gradient norm to `clip` (0 = off), and step
// the optimiser only if loss and gradient are finite.
StepOutcome train_step(const ModelSpec& spec, Transformer& model, torch::optim::Optimizer& optimizer,
                       const std::vector<torch::Tensor>& params, const Batch& batch, double clip,
                       const torch::Device& device);

}  // namespace sigprop
