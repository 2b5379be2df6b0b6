#include "kernels/affine.h"
#include "kernels/autocast.h"

#include <torch/torch.h>

#include "core/parallel.h"

namespace sigprop {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class ConcurrentLinear : public torch::autograd::Function<ConcurrentLinear> {
 public:
  // LibTorch 1.13's Function cannot take an undefined tensor: without a bias, `bias` is empty.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    ctx->save_for_backward({x, weight});
    auto x2 = x.reshape({-1, x.size(-1)});
    auto y = bias.numel() ? torch::addmm(bias, x2, weight.t()) : torch::mm(x2, weight.t());
    auto shape = x.sizes().vec();
    shape.back() = weight.size(0);
    return y.view(shape);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto dy = grads[0].reshape({-1, weight.size(0)}).contiguous();
    torch::Tensor dx, dw, db;
    // Two tasks, one core each (one after the other with one thread or inside a parallel region).
    for_each_chunk(2, 1, [&](int64_t task, int64_t, int64_t) {
      if (task == 0) {
        if (ctx->needs_input_grad(0)) dx = torch::mm(dy, weight).view(x.sizes());
        return;
      }
      if (ctx->needs_input_grad(1)) dw = torch::mm(dy.t(), x.reshape({-1, x.size(-1)}));
      if (ctx->needs_input_grad(2)) db = dy.sum(0);
    });
    return {dx, dw, db};
  }
};

}  // namespace

torch::Tensor affine(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const bool covered = !autocast_active() && x.device().is_cpu() && weight.device().is_cpu() &&
                       (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble) &&
                       weight.scalar_type() == x.scalar_type();
  if (!covered) return torch::linear(x, weight, bias);
  return ConcurrentLinear::apply(x, weight, bias.defined() ? bias : torch::empty({0}, weight.options()));
}

torch::Tensor affine_packed(const torch::Tensor& x, const std::vector<torch::Tensor>& weights) {
  return affine(x, torch::cat(weights));
}

}  // namespace sigprop
