#include "kernels/fused_adamw.h"

#include <cmath>
#include <memory>
#include <type_traits>

#include <ATen/Parallel.h>
#include <c10/util/StringUtil.h>
#include <torch/utils.h>

namespace sigprop {
namespace {

bool plain_cpu_float(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat &&
         t.is_contiguous() && !t.is_sparse();
}

struct Coefficients {
  float decay, beta1, one_minus_beta1, beta2, one_minus_beta2, sqrt_bias_correction2, eps,
      neg_step_size;
};

// One parameter's update, element by element, in LibTorch's operation order (float arithmetic,
// as its CPU kernels do): p ← p(1 − lr·wd); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
// p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
void update(float* p, const float* g, float* m, float* v, int64_t n, const Coefficients& c) {
  at::parallel_for(0, n, 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float gi = g[i];
      const float mi = m[i] * c.beta1 + c.one_minus_beta1 * gi;
      const float vi = v[i] * c.beta2 + c.one_minus_beta2 * gi * gi;
      const float denom = std::sqrt(vi) / c.sqrt_bias_correction2 + c.eps;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * c.decay + c.neg_step_size * mi / denom;
    }
  });
}

// LibTorch keys optimiser state by the parameter's TensorImpl: as a string up to 2.0, as a pointer
// since.
template <typename Key>
Key state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>)
    return c10::str(p.unsafeGetTensorImpl());
  else
    return p.unsafeGetTensorImpl();
}

}  // namespace

bool FusedAdamW::fusable() const {
  for (const auto& group : param_groups_) {
    if (static_cast<const torch::optim::AdamWOptions&>(group.options()).amsgrad()) return false;
    for (const auto& p : group.params())
      if (p.grad().defined() && !(plain_cpu_float(p) && plain_cpu_float(p.grad()))) return false;
  }
  return true;
}

torch::optim::AdamWParamState& FusedAdamW::state_of(const torch::Tensor& p) {
  auto& slot = state_[state_key<std::decay_t<decltype(state_)>::key_type>(p)];
  if (!slot) {
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
    s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
    slot = std::move(s);
  }
  return static_cast<torch::optim::AdamWParamState&>(*slot);
}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  if (!fusable()) return torch::optim::AdamW::step(std::move(closure));
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    const auto [beta1, beta2] = o.betas();
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& s = state_of(p);
      s.step(s.step() + 1);
      // A state loaded from a checkpoint need not be contiguous float32: make it so once.
      if (!plain_cpu_float(s.exp_avg())) s.exp_avg(s.exp_avg().contiguous().to(torch::kFloat));
      if (!plain_cpu_float(s.exp_avg_sq()))
        s.exp_avg_sq(s.exp_avg_sq().contiguous().to(torch::kFloat));
      const double bias_correction1 = 1 - std::pow(beta1, double(s.step()));
      const double bias_correction2 = 1 - std::pow(beta2, double(s.step()));
      const Coefficients c{float(1 - o.lr() * o.weight_decay()),
                           float(beta1),
                           float(1 - beta1),
                           float(beta2),
                           float(1 - beta2),
                           float(std::sqrt(bias_correction2)),
                           float(o.eps()),
                           float(-o.lr() / bias_correction1)};
      update(p.data_ptr<float>(), p.grad().data_ptr<float>(), s.exp_avg().data_ptr<float>(),
             s.exp_avg_sq().data_ptr<float>(), p.numel(), c);
    }
  }
  return loss;
}

}  // namespace sigprop
