// Initialisation (src/model/init.h): the scaled orthogonal init, whose QRs run one per core, draws
// exactly what torch::nn::init::orthogonal_ draws from the same generator state.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "config/spec_io.h"
#include "model/block.h"
#include "model/init.h"
#include "model/transformer.h"

using namespace sigprop;

TEST(Init, OrthogonalIsTorchsOrthogonalInitScaled) {
  ModelSpec s;
  s.depth = 3, s.width = 16, s.heads = 2, s.mlp_width = 40;
  for (const char* o : {"init=orthogonal", "zero_queries=true", "norm=none", "residual=none"})
    apply_override(s, o);
  Transformer model(s);
  torch::manual_seed(7);
  initialise(*model);

  torch::NoGradGuard no_grad;
  torch::manual_seed(7);  // replay the same draws, in the same order, with LibTorch's own init
  for (const auto& m : *model->blocks) {
    auto* block = m->as<BlockImpl>();
    for (auto* lin : {&block->attn->w_q, &block->attn->w_k, &block->attn->w_v, &block->attn->w_o,
                      &block->mlp->fc1, &block->mlp->fc2}) {
      const auto& w = (*lin)->weight;
      const double gain = std::sqrt(std::max(1.0, double(w.size(0)) / double(w.size(1))));
      auto expected = torch::nn::init::orthogonal_(torch::empty_like(w), gain);
      if (lin == &block->attn->w_q) expected.zero_();  // zero_queries, applied after the draws
      EXPECT_LE((w - expected).abs().max().item<double>(), 1e-6) << "block weight " << w.sizes();
    }
    // fc1 is tall (40 x 16): orthonormal columns scaled by √(40/16) (DKS's SUO), so each hidden
    // unit keeps the input's per-unit second moment; fc2 (16 x 40) has orthonormal rows, gain 1.
    const auto& w1 = block->mlp->fc1->weight;
    const auto cols = torch::matmul(w1.t(), w1) / (40.0 / 16.0);
    EXPECT_LE((cols - torch::eye(16)).abs().max().item<double>(), 1e-5);
    const auto& w2 = block->mlp->fc2->weight;
    EXPECT_LE((torch::matmul(w2, w2.t()) - torch::eye(16)).abs().max().item<double>(), 1e-5);
  }
}
