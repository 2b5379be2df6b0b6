#include "kernels/autocast.h"

#include <ATen/autocast_mode.h>

namespace sigprop {

bool autocast_active() { return at::autocast::is_cpu_enabled() || at::autocast::is_enabled(); }

Bf16Autocast::Bf16Autocast(const torch::Device& device, bool enabled)
    : enabled_(enabled), cuda_(device.is_cuda()) {
  if (!enabled_) return;
  if (cuda_) {
    was_on_ = at::autocast::is_enabled(), was_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  } else {
    was_on_ = at::autocast::is_cpu_enabled(), was_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
}

Bf16Autocast::~Bf16Autocast() {
  if (!enabled_) return;
  if (cuda_) {
    at::autocast::set_enabled(was_on_);
    at::autocast::set_autocast_gpu_dtype(was_dtype_);
  } else {
    at::autocast::set_cpu_enabled(was_on_);
    at::autocast::set_autocast_cpu_dtype(was_dtype_);
  }
  // Autocast keeps bfloat16 copies of the weights for the forward; they are stale after a step.
  if (!was_on_) at::autocast::clear_cache();
}

}  // namespace sigprop
