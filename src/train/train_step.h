// One optimiser step of the training loss: the unit both `sigprop train` and the benchmark time.
#pragma once

#include <functional>
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

// zero_grad, forward (under bfloat16 autocast when `bf16`), loss (in float32), backward, `after_backward` (data parallelism: the gradients averaged
// across ranks), clip the global gradient norm to `clip` (0 = off), and step the optimiser only
// if the gradient is finite and the loss is (a non-finite loss on any rank makes every rank's
// averaged gradient non-finite, so all ranks decide alike).
StepOutcome train_step(const ModelSpec& spec, Transformer& model, torch::optim::Optimizer& optimizer,
                       const std::vector<torch::Tensor>& params, const Batch& batch, double clip,
                       const torch::Device& device, bool bf16 = false,
                       const std::function<void()>& after_backward = nullptr);

}  // namespace sigprop
