#include "train/train_step.h"

#include "kernels/autocast.h"

#include <cmath>
#include <limits>

namespace sigprop {

StepOutcome train_step(const ModelSpec& spec, Transformer& model, torch::optim::Optimizer& optimizer,
                       const std::vector<torch::Tensor>& params, const Batch& batch, double clip,
                       const torch::Device& device, bool bf16, const std::function<void()>& after_backward) {
  optimizer.zero_grad();
  torch::Tensor output;
  {
    Bf16Autocast autocast(device, bf16);
    output = model->forward(batch.input.to(device));
  }
  auto loss = training_loss(spec, output.to(torch::kFloat), batch.target.to(device));
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
