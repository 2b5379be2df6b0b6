// bfloat16 autocast (--dtype bf16): inside the guard the linear products run in bfloat16 (the
// fused float kernels step aside), outside it nothing changes, and a model trained that way
// learns like float32 without being float32.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "config/presets.h"
#include "kernels/affine.h"
#include "kernels/autocast.h"
#include "model/transformer.h"

using namespace sigprop;

TEST(Autocast, Bf16GuardCastsProductsAndRestores) {
  torch::manual_seed(0);
  const auto x = torch::randn({4, 8}), w = torch::randn({6, 8}), b = torch::randn({6});
  EXPECT_FALSE(autocast_active());
  {
    Bf16Autocast guard(torch::kCPU, true);
    EXPECT_TRUE(autocast_active());
    const auto y = affine(x, w, b);
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
    // bfloat16 keeps 8 bits of mantissa: within a few parts in 1e3 of the float product.
    EXPECT_LT((y.to(torch::kFloat) - torch::linear(x, w, b)).abs().max().item<double>(), 0.1);
  }
  EXPECT_FALSE(autocast_active());
  EXPECT_EQ(affine(x, w, b).scalar_type(), torch::kFloat);
  {
    Bf16Autocast off(torch::kCPU, false);
    EXPECT_FALSE(autocast_active());
  }
}

TEST(Autocast, TransformerForwardAndBackwardUnderBf16) {
  ModelSpec s = load_preset("pre-ln");
  s.depth = 2, s.width = 32, s.heads = 2, s.mlp_width = 64, s.vocab_size = 16;
  torch::manual_seed(0);
  Transformer model(s);
  const auto tokens = torch::randint(0, 16, {2, 12});
  const auto ref = model->forward(tokens);
  torch::Tensor out;
  {
    Bf16Autocast guard(torch::kCPU, true);
    out = model->forward(tokens);
  }
  EXPECT_NE(out.scalar_type(), torch::kFloat) << "the head ran in bfloat16";
  const double err = (out.to(torch::kFloat) - ref).abs().max().item<double>();
  EXPECT_GT(err, 0.0) << "bfloat16 changed nothing: autocast did not engage";
  EXPECT_LT(err, 0.25 * ref.abs().max().item<double>());
  out.to(torch::kFloat).pow(2).mean().backward();
  for (const auto& p : model->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().scalar_type(), torch::kFloat) << "gradients stay float32";
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
  }
}
