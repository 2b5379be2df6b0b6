// Causality of everything causal: with model.causal = true, perturbing the input at position t
// leaves every output at positions < t unchanged — the hidden state after every block, the
// logits and the per-position loss. The configurations are enumerated, not listed: every preset,
// and from each every value of every enumerated key (spec_keys().choices: attention variants,
// norm placements, residual forms, similarity-removal placements, activations, inputs, QK-norm...),
// plus the full product of attention × norm × residual × similarity removal. A variant added to
// any of those keys is tested here without being named.
//
// Tolerance: exact equality. A causal A has exact zeros above its diagonal (a masked softmax, or
// triangular E-SPA/U-SPA matrices), and row t of every product and running mean is summed over
// the same terms in the same order whatever happens later in the sequence, so nothing a later
// token does may change a single bit of an earlier position.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"
#include "data/dataset.h"
#include "model/transformer.h"

using namespace sigprop;

namespace {

constexpr int64_t kT = 8, kBatch = 2, kPerturbed = 4;

// Small enough to build hundreds of models: 4 blocks, so a leak passes through several, and 16
// where TAT is used, deep enough for its η = 0.9.
ModelSpec small(ModelSpec s) {
  s.depth = s.activation == Activation::TatLeakyReLU ? 16 : 4;
  s.width = 16, s.heads = 2, s.d_k = 0, s.mlp_width = s.mlp_width ? 24 : 0;
  s.vocab_size = 11, s.max_seq = 16, s.patch_size = 2, s.channels = 1, s.num_classes = 3;
  return s;
}

// An input of the spec's kind with `kT` positions, and a copy that differs only at `kPerturbed`.
std::pair<torch::Tensor, torch::Tensor> input_pair(const ModelSpec& s) {
  torch::Tensor a;
  switch (s.input) {
    case InputKind::Tokens: a = torch::randint(0, s.vocab_size, {kBatch, kT}, torch::kLong); break;
    case InputKind::Raw: a = torch::randn({kBatch, kT, s.width}); break;
    case InputKind::Patches:  // a 2 x 4 grid of 2 x 2 patches, numbered row by row
      a = torch::randn({kBatch, 1, 2 * s.patch_size, 4 * s.patch_size});
      break;
  }
  auto b = a.clone();
  switch (s.input) {
    case InputKind::Tokens: b.select(1, kPerturbed).add_(1).remainder_(s.vocab_size); break;
    case InputKind::Raw: b.select(1, kPerturbed).add_(1.0); break;
    case InputKind::Patches: {
      const int64_t p = s.patch_size, row = kPerturbed / 4, col = kPerturbed % 4;
      b.narrow(2, row * p, p).narrow(3, col * p, p).add_(1.0);
      break;
    }
  }
  return {a, b};
}

struct Outputs {
  std::vector<torch::Tensor> per_position;  // (B, T, ·) tensors indexed by position
};

Outputs run(TransformerImpl& model, const torch::Tensor& input, const torch::Tensor& target) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(11);  // random-Markov attention draws its matrices in the forward pass
  ForwardTrace trace;
  auto out = model.forward(input, &trace);
  Outputs o{trace.hidden};
  if (model.spec.input == InputKind::Tokens) {
    o.per_position.push_back(out);  // logits (B, T, V)
    auto loss = torch::nn::functional::cross_entropy(
        out.reshape({-1, out.size(-1)}), target.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    o.per_position.push_back(loss.view({kBatch, kT, 1}));
  }
  return o;
}

// "" when causal; otherwise what leaked. Also fails when the perturbation changes nothing at or
// after kPerturbed (a test that could not see a leak).
std::string check(const ModelSpec& spec) {
  torch::manual_seed(5);
  Transformer model(spec);
  {  // learnable gains away from their init, as after training: ReZero's 0 would hide its branches
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters())
      if (p.key().find("gain") != std::string::npos) p.value().uniform_(0.5, 1.5);
  }
  const auto [a, b] = input_pair(spec);
  const auto target = torch::randint(0, spec.vocab_size, {kBatch, kT}, torch::kLong);
  const auto oa = run(*model, a, target), ob = run(*model, b, target);
  bool later_changed = false;
  for (size_t i = 0; i < oa.per_position.size(); ++i) {
    const auto &x = oa.per_position[i], &y = ob.per_position[i];
    if (!torch::equal(x.narrow(1, 0, kPerturbed), y.narrow(1, 0, kPerturbed))) {
      const double d = (x - y).narrow(1, 0, kPerturbed).abs().max().item<double>();
      const bool hidden = i < oa.per_position.size() - (spec.input == InputKind::Tokens ? 2 : 0);
      return (hidden ? "hidden state " + std::to_string(i) : i + 1 == oa.per_position.size()
                                                                  ? std::string("per-position loss")
                                                                  : std::string("logits")) +
             " before position " + std::to_string(kPerturbed) + " moved by " + std::to_string(d);
    }
    later_changed |= !torch::equal(x.narrow(1, kPerturbed, kT - kPerturbed),
                                   y.narrow(1, kPerturbed, kT - kPerturbed));
  }
  return later_changed ? "" : "the perturbation changed nothing (the test is blind here)";
}

std::string describe(const ModelSpec& s, const std::vector<std::string>& overrides) {
  std::string out = s.name;
  for (const auto& o : overrides) out += " " + o;
  return out;
}

// Builds preset + overrides with causal = true; false when the combination is not a valid model.
bool causal_spec(const std::string& preset, const std::vector<std::string>& overrides,
                 ModelSpec& out) {
  out = load_preset(preset);
  try {
    for (const auto& o : overrides) apply_override(out, o);
    out = small(out);  // after the overrides, which may name TAT
    out.causal = true;
    check_buildable(out);
  } catch (const ConfigError&) {
    return false;
  }
  return true;
}

const SpecKey& key(const std::string& name) {
  for (const auto& k : spec_keys())
    if (k.key == name) return k;
  throw std::runtime_error("no key " + name);
}

}  // namespace

TEST(Causality, EveryPresetWithEveryValueOfEveryEnumeratedKey) {
  int tested = 0, invalid = 0;
  std::set<std::string> covered;
  for (const auto& preset : preset_names()) {
    std::vector<std::vector<std::string>> variants = {{}};
    for (const auto& k : spec_keys())
      for (const auto& c : k.choices)
        if (k.key != "causal") variants.push_back({k.key + "=" + c});
    for (const auto& v : variants) {
      ModelSpec spec;
      if (!causal_spec(preset, v, spec)) {
        ++invalid;
        continue;
      }
      ++tested;
      if (!v.empty()) covered.insert(v[0]);
      EXPECT_EQ(check(spec), "") << describe(spec, v);
    }
  }
  // Every value of every enumerated key was valid with at least one preset.
  for (const auto& k : spec_keys())
    for (const auto& c : k.choices)
      if (k.key != "causal") EXPECT_TRUE(covered.count(k.key + "=" + c)) << k.key << "=" << c;
  EXPECT_GT(tested, 10 * int(preset_names().size())) << invalid << " combinations were invalid";
}

TEST(Causality, EveryAttentionNormResidualAndSimilarityRemovalTogether) {
  int tested = 0, refused = 0;
  for (const auto& attention : key("attention").choices)
    for (const auto& norm : key("norm").choices)
      for (const auto& residual : key("residual").choices)
        for (const auto& sim : key("simremove").choices) {
          const std::vector<std::string> v = {"attention=" + attention, "norm=" + norm,
                                              "residual=" + residual, "simremove=" + sim};
          ModelSpec spec;
          if (!causal_spec("post-ln", v, spec)) {
            // The one refusal: DeepNet's LN(a x + f(x)) needs the post-norm LN.
            EXPECT_TRUE(residual == "deepnorm" && norm != "post") << describe(spec, v);
            ++refused;
            continue;
          }
          ++tested;
          EXPECT_EQ(check(spec), "") << describe(spec, v);
        }
  EXPECT_EQ(refused, int(key("attention").choices.size() * (key("norm").choices.size() - 1) *
                         key("simremove").choices.size()));
  EXPECT_EQ(tested + refused, int(key("attention").choices.size() * key("norm").choices.size() *
                                  key("residual").choices.size() * key("simremove").choices.size()));
}

// The test sees a leak: the bidirectional mean of paper 000's Π, put into a causal model, fails.
TEST(Causality, FailsOnAModelThatLooksAhead) {
  ModelSpec spec;
  ASSERT_TRUE(causal_spec("post-ln-simremove", {}, spec));
  EXPECT_EQ(check(spec), "");
  spec.causal = false;  // the whole-window mean and unmasked attention
  EXPECT_NE(check(spec).find("before position"), std::string::npos);
}

// The data side of causality: a language batch's target at t is its input at t + 1, never an
// earlier or the same token, for every token dataset, training and held-out batches alike.
TEST(Causality, LanguageTargetsAreTheNextInput) {
  for (const std::string name : {"kjv", "synthetic"}) {
    const auto data = make_dataset(name, 32);
    ASSERT_TRUE(data->is_language()) << name;
    std::vector<Batch> batches = data->eval_batches(4, 2);
    for (int64_t step : {0, 1, 977}) batches.push_back(data->train_batch(4, 3, step));
    for (const auto& b : batches) {
      ASSERT_EQ(b.input.sizes(), b.target.sizes()) << name;
      EXPECT_TRUE(torch::equal(b.input.narrow(1, 1, 31), b.target.narrow(1, 0, 31))) << name;
      EXPECT_FALSE(torch::equal(b.input, b.target)) << name;
    }
  }
}
