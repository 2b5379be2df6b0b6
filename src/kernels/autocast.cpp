#include "kernels/autocast.h"

#include <ATen/autocast_mode.h>

namespace sigprop {

// torch.amp's per-device API (torch >= 2.4); the per-backend calls before it are deprecated.
bool autocast_active() {
  return at::autocast::is_autocast_enabled(at::kCPU) || at::autocast::is_autocast_enabled(at::kCUDA);
}

Bf16Autocast::Bf16Autocast(const torch::Device& device, bool enabled)
    : enabled_(enabled), device_(device.type()) {
  if (!enabled_) return;
  was_on_ = at::autocast::is_autocast_enabled(device_);
  was_dtype_ = at::autocast::get_autocast_dtype(device_);
  at::autocast::set_autocast_dtype(device_, at::kBFloat16);
  at::autocast::set_autocast_enabled(device_, true);
}

Bf16Autocast::~Bf16Autocast() {
  if (!enabled_) return;
  at::autocast::set_autocast_enabled(device_, was_on_);
  at::autocast::set_autocast_dtype(device_, was_dtype_);
  // Autocast keeps bfloat16 copies of the weights for the forward; they are stale after a step.
  if (!was_on_) at::autocast::clear_cache();
}

}  // namespace sigprop
