// FusedAdamW (src/kernels/fused_adamw.h) against LibTorch's own AdamW: the same parameters after
// the same gradients, and optimiser state that either one can load from the other's checkpoint.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "kernels/fused_adamw.h"

using namespace sigprop;

namespace {

std::vector<torch::Tensor> parameters(int64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({37, 19}).requires_grad_(), torch::randn({70001}).requires_grad_(),
          torch::randn({3}).requires_grad_()};
}

// A gradient that depends on the parameters, so a wrong update also changes later gradients.
void set_gradients(const std::vector<torch::Tensor>& ps, int64_t step) {
  for (size_t i = 0; i < ps.size(); ++i) {
    torch::NoGradGuard no_grad;
    ps[i].mutable_grad() = torch::sin(ps[i] * double(step + 1 + i)) + 0.1 * ps[i];
  }
}

double max_gap(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double gap = 0;
  for (size_t i = 0; i < a.size(); ++i)
    gap = std::max(gap, (a[i].to(torch::kDouble) - b[i].to(torch::kDouble)).abs().max().item<double>());
  return gap;
}

}  // namespace

// Both float32 optimisers are held to LibTorch's AdamW in float64 on the same start: the
// gradient sin(p·k) amplifies rounding step by step, so the two float32 runs drift apart by
// rounding alone (3e-5 after 25 steps on LibTorch 2.11, whose AdamW rounds differently from
// 1.13's); what must hold is that the fused one is no further from exact than LibTorch's own.
TEST(FusedAdamW, FollowsLibTorchAdamWAndSharesItsCheckpoints) {
  const auto options = torch::optim::AdamWOptions(3e-2).weight_decay(0.1).betas({0.8, 0.95});
  auto fused_params = parameters(5), plain_params = parameters(5), exact_params = parameters(5);
  for (auto& p : exact_params) p = p.detach().to(torch::kDouble).requires_grad_();
  FusedAdamW fused(fused_params, options);
  torch::optim::AdamW plain(plain_params, options), exact(exact_params, options);
  for (int64_t step = 0; step < 25; ++step) {
    set_gradients(fused_params, step), set_gradients(plain_params, step), set_gradients(exact_params, step);
    fused.step(), plain.step(), exact.step();
  }
  const double fused_error = max_gap(fused_params, exact_params), plain_error = max_gap(plain_params, exact_params);
  EXPECT_LE(fused_error, std::max(1.5 * plain_error, 1e-5)) << "LibTorch's float32 AdamW: " << plain_error;
  EXPECT_LE(max_gap(fused_params, plain_params), 1e-4);
  std::printf("float32 vs float64 after 25 steps: fused %.2e, LibTorch %.2e\n", fused_error, plain_error);
  EXPECT_GT((fused_params[0] - parameters(5)[0]).abs().max().item<double>(), 0.1);  // it moved

  // FusedAdamW's state saved and loaded into LibTorch's AdamW (and back): both continue alike.
  std::stringstream saved;
  {
    torch::serialize::OutputArchive archive;
    fused.save(archive);
    archive.save_to(saved);
  }
  auto resumed_params = std::vector<torch::Tensor>();
  for (const auto& p : fused_params) resumed_params.push_back(p.detach().clone().requires_grad_());
  torch::optim::AdamW resumed(resumed_params, options);
  {
    torch::serialize::InputArchive archive;
    archive.load_from(saved);
    resumed.load(archive);
  }
  for (int64_t step = 25; step < 30; ++step) {
    set_gradients(fused_params, step), set_gradients(resumed_params, step);
    fused.step(), resumed.step();
  }
  EXPECT_LE(max_gap(fused_params, resumed_params), 1e-5);
}
