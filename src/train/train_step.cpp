#include "train/train_step.h"

#include <cmath>
#include <limits>

namespace sigprop {

StepOutcome train_step(const ModelSpec& spec, Transformer& model, torch::optim::Optimizer& optimizer,
                       const std::vector<torch::Tensor>& params, const Batch& batch, double clip,
                       const torch::Device& device, const std::function<void()>& after_backward) {
  optimizer.zero_grad();
  auto loss = training_loss(spec, model->forward(batch.input.to(device)), batch.target.to(device));
  loss.backward();
  if (after_backward) after_backward();
  StepOutcome out;
  out.grad_norm = torch::nn::utils::clip_grad_norm_(
      params, clip > 0 ? clip : std::numeric_limits<double>::infinity());
  out.loss = loss.item<double>();
  out.stepped = std::isfinite(out.loss) && std::isfinite(out.grad_norm);
  if (out.stepped) optimizer.step();
  return out;
}

}  // namespace sigprop
