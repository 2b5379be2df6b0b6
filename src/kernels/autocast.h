// Mixed precision: LibTorch's autocast, in bfloat16, on the CPU or a GPU. Inside a Bf16Autocast
// the products of linear layers and attention run in bfloat16 while the parameters, the
// optimiser state and the gradients they receive stay float32; sigprop's own float kernels step
// aside (autocast_active) so the ATen ops autocast knows do the work.
#pragma once

#include <torch/types.h>

namespace sigprop {

bool autocast_active();

class Bf16Autocast {
 public:
  // Nothing happens when `enabled` is false.
  Bf16Autocast(const torch::Device& device, bool enabled);
  ~Bf16Autocast();
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool enabled_ = false, was_on_ = false;
  at::DeviceType device_ = at::kCPU;
  at::ScalarType was_dtype_ = at::kBFloat16;
};

}  // namespace sigprop
