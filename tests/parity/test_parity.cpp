// Parity with PyTorch (the torch sigprop is built against): the same weights, buffers, input and target give
// the same output, per-layer hidden states, loss and every parameter gradient as
// tests/parity/reference.py, for all 8 attention variants, token and patch input, and the stability
// fixes (QK-norm, LayerScale, ReZero, DeepNorm, sandwich norm, 1/L). Tolerance:
// max |sigprop - reference| <= 1e-5 * (1 + max |reference|), float32.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "config/spec_io.h"
#include "core/tensor_dict.h"
#include "model/transformer.h"
#include "parity_files.h"

using namespace sigprop;
namespace fs = std::filesystem;

namespace {

void expect_close(const std::string& what, const torch::Tensor& ours, const torch::Tensor& ref) {
  ASSERT_EQ(ours.sizes(), ref.sizes()) << what;
  const double diff = (ours.to(torch::kDouble) - ref.to(torch::kDouble)).abs().max().item<double>();
  const double scale = 1.0 + ref.abs().max().item<double>();
  EXPECT_LE(diff, 1e-5 * scale) << what << " differs: max |diff| = " << diff;
}

// random_gains: the learnable branch and QK-norm gains drawn at random rather than at their
// init (ReZero's 0 would hide the branches), so the reference's use of them shows.
void check_parity(const std::string& name, const std::vector<std::string>& overrides,
                  bool random_gains = false) {
  ModelSpec spec;
  spec.depth = 2, spec.width = 32, spec.heads = 4, spec.mlp_width = 64, spec.vocab_size = 11;
  spec.max_seq = 16;
  for (const auto& o : overrides) apply_override(spec, o);
  torch::manual_seed(11);
  Transformer model(spec);
  if (random_gains) {
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters())
      if (p.key().find("gain") != std::string::npos)
        p.value().copy_(0.5 + 0.3 * torch::randn_like(p.value()));
  }
  const bool patches = spec.input == InputKind::Patches;  // (B, C, 8, 8) images, class targets
  const auto input = patches ? torch::randn({3, spec.channels, 8, 8})
                             : torch::randint(0, spec.vocab_size, {3, 9}, torch::kLong);
  const auto target = patches ? torch::randint(0, spec.num_classes, {3}, torch::kLong)
                              : torch::randint(0, spec.vocab_size, {3, 9}, torch::kLong);

  const fs::path dir = fs::temp_directory_path() / ("sigprop_parity_" + name);
  test::write_parity_inputs(dir, *model, input, target);

  const std::string cmd = std::string(SIGPROP_PYTHON) + " " + SIGPROP_TEST_DIR +
                          "/parity/reference.py " + dir.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "reference failed: " << cmd;
  const auto ref = load_tensor_dict(dir / "reference.safetensors");

  ForwardTrace trace;
  auto out = model->forward(input, &trace);
  auto loss = training_loss(spec, out, target);
  loss.backward();
  expect_close(name + " output", out.detach(), ref.at("output"));
  expect_close(name + " loss", loss.detach(), ref.at("loss"));
  // Every layer's hidden state: the embedded input, then each block's output.
  ASSERT_EQ(trace.hidden.size(), size_t(spec.depth + 1));
  for (size_t l = 0; l < trace.hidden.size(); ++l)
    expect_close(name + " hidden." + std::to_string(l), trace.hidden[l].detach(),
                 ref.at("hidden." + std::to_string(l)));
  int grads = 0;
  for (const auto& p : model->named_parameters()) {
    const auto& g = p.value().grad();  // undefined where A does not depend on the weight
    expect_close(name + " grad." + p.key(), g.defined() ? g : torch::zeros_like(p.value()),
                 ref.at("grad." + p.key()));
    ++grads;
  }
  EXPECT_EQ(grads + 2 + spec.depth + 1, static_cast<int>(ref.size())) << "parameter sets differ";
  fs::remove_all(dir);
}

}  // namespace

TEST(Parity, PostNormReLU) { check_parity("post", {"norm=post", "activation=relu"}); }

TEST(Parity, PreNormRMSNormGeluScaled) {
  check_parity("pre", {"norm=pre", "norm_kind=rmsnorm", "activation=gelu", "residual=1/sqrt(L)",
                       "d_k=6"});
}

TEST(Parity, VanillaBidirectionalLeaky) {
  check_parity("vanilla", {"norm=none", "residual=none", "activation=leaky_relu",
                           "leaky_slope=0.2", "positional=none", "causal=false"});
}

TEST(Parity, ShapedAttentionLambdaGammaShapedRelu) {
  check_parity("shaped", {"attention=shaped", "residual=lambda_gamma", "residual_gamma=0.6",
                          "norm=none", "activation=shaped_relu", "shaped_c_plus=0.5",
                          "shaped_c_minus=-2.0", "shaped_tau0=0.5", "init=lecun"});
}

TEST(Parity, EspaWithTatLeakyRelu) {
  check_parity("espa", {"attention=espa", "espa_gamma=0.3", "activation=tat_leaky_relu",
                        "tat_eta=0.3", "norm=none", "residual=none", "init=orthogonal"});
}

TEST(Parity, UspaCausal) {
  check_parity("uspa", {"attention=uspa", "uspa_rho=0.6", "norm=none", "residual=none"});
}

TEST(Parity, GapRemovedWithSimilarityRemoval) {
  check_parity("gap", {"attention=gap_removed", "simremove=both", "simremove_tau=0.7",
                       "causal=false"});
  check_parity("gap_causal", {"attention=gap_removed", "simremove=attention"});
}

// Every attention variant of the registry has a case above or here.
TEST(Parity, SoftmaxUniformAndRandomMarkov) {
  check_parity("softmax_bidirectional", {"attention=softmax", "causal=false"});
  check_parity("uniform", {"attention=uniform", "norm=pre"});
  check_parity("random_markov", {"attention=random_markov", "norm=pre"});
  check_parity("random_markov_bidirectional", {"attention=random_markov", "causal=false"});
}

TEST(Parity, ValueSkipInitAndGapRemovedOnEachBase) {
  check_parity("vskip_softmax", {"attention=value_skipinit", "norm=none", "residual=none"});
  check_parity("vskip_markov", {"attention=value_skipinit", "attention_base=random_markov"});
  check_parity("gap_markov", {"attention=gap_removed", "attention_base=random_markov",
                              "causal=false"});
  check_parity("gap_uniform", {"attention=gap_removed", "attention_base=uniform"});
}

TEST(Parity, PatchInputClassifier) {
  check_parity("patches", {"input=patches", "patch_size=4", "channels=2", "num_classes=5",
                           "causal=false", "norm=pre"});
}

TEST(Parity, SinusoidalPositions) {
  check_parity("sinusoidal", {"positional=sinusoidal", "norm=pre", "activation=gelu"});
}

// The stability fixes (docs/methods.md), each against the reference's own reading of its formula.
TEST(Parity, StabilityFixes) {
  check_parity("qk_norm", {"norm=pre", "qk_norm=true", "d_k=6"}, true);
  check_parity("layerscale", {"norm=pre", "residual=layerscale", "norm_kind=rmsnorm"}, true);
  check_parity("rezero", {"norm=none", "residual=rezero", "activation=gelu"}, true);
  check_parity("deepnorm", {"norm=post", "residual=deepnorm", "qk_norm=true"});
  check_parity("sandwich", {"norm=sandwich", "residual=1/L", "causal=false"});
}
