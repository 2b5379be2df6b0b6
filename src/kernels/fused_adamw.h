// AdamW (Loshchilov & Hutter 2019) exactly as torch::optim::AdamW and torch.optim.AdamW compute it,
// with each parameter's whole update (decay, both moments, bias corrections, step) done in one
// pass over its memory instead of ~9 LibTorch ops and their temporaries. The state is LibTorch's
// own AdamWParamState, so checkpoints load either way. Falls back to torch::optim::AdamW for what
// the pass does not cover (GPU or non-float32 tensors, amsgrad, sparse gradients).
#pragma once

#include <torch/optim/adamw.h>

namespace sigprop {

class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  bool fusable() const;
  torch::optim::AdamWParamState& state_of(const torch::Tensor& p);
};

}  // namespace sigprop
