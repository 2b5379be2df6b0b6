#include "config/presets.h"

#include <utility>

#include "config/spec_io.h"
#include "core/error.h"

namespace sigprop {
namespace {

using Keys = std::vector<std::pair<std::string, std::string>>;  // TOML key, TOML value

// Shared by every preset: a GPT-style character model of moderate size. Presets override keys.
const Keys& base_keys() {
  static const Keys keys = {
      {"depth", "16"},         {"width", "128"},          {"heads", "4"},
      {"mlp_width", "512"},    {"activation", "\"relu\""}, {"norm", "\"post\""},
      {"norm_kind", "\"layernorm\""}, {"residual", "1.0"},  {"attention", "\"softmax\""},
      {"causal", "true"},      {"positional", "\"learned\""}, {"input", "\"tokens\""},
      {"init", "\"xavier\""},  {"zero_queries", "false"},
  };
  return keys;
}

Preset make(const std::string& name, const std::string& paper, const std::string& summary,
            const Keys& overrides) {
  Keys keys = base_keys();
  for (const auto& [k, v] : overrides) {
    bool found = false;
    for (auto& kv : keys)
      if (kv.first == k) kv.second = v, found = true;
    if (!found) keys.emplace_back(k, v);
  }
  std::string toml = "name = \"" + name + "\"\n";
  if (!paper.empty()) toml += "paper = \"" + paper + "\"\n";
  toml += "description = \"" + summary + "\"\n\n[model]\n";
  for (const auto& [k, v] : keys) toml += k + " = " + v + "\n";
  return {name, summary, toml};
}

// The vanilla (no skip, no norm) recipe of He et al. 2023: W_Q = 0, orthogonal W_V and W_O,
// TAT leaky ReLU MLPs.
Keys vanilla(const std::string& attention) {
  return {{"norm", "\"none\""},      {"residual", "\"none\""},
          {"attention", "\"" + attention + "\""}, {"zero_queries", "true"},
          {"init", "\"orthogonal\""}, {"activation", "\"tat_leaky_relu\""}};
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = {
      make("post-ln", "", "post-norm transformer (Vaswani et al. 2017): LayerNorm after each residual sum",
           {}),
      make("pre-ln", "", "pre-norm transformer (GPT-2): LayerNorm inside each branch, final LayerNorm",
           {{"norm", "\"pre\""}}),
      make("post-ln-scaled", "002",
           "post-norm with residual branches scaled by 1/sqrt(L) (Noci et al. 2022, paper 002)",
           {{"residual", "\"1/sqrt(L)\""}}),
      make("post-ln-simremove", "000",
           "post-norm with the mean token removed from both branch outputs (Yu & Zhang 2023, paper 000)",
           {{"simremove", "\"both\""}, {"simremove_tau", "1.0"}}),
      make("vanilla-espa-tat", "001",
           "no skips, no norm: E-SPA attention, W_Q = 0, orthogonal init, TAT leaky ReLU (He et al. 2023, paper 001)",
           vanilla("espa")),
      make("vanilla-uspa-tat", "001",
           "no skips, no norm: U-SPA attention, W_Q = 0, orthogonal init, TAT leaky ReLU (He et al. 2023, paper 001)",
           vanilla("uspa")),
      make("vanilla-vskipinit-tat", "001",
           "no skips, no norm: Value-SkipInit attention (alpha I + beta A), TAT leaky ReLU (He et al. 2023, paper 001)",
           vanilla("value_skipinit")),
      make("noln-espa-tat", "001",
           "skips kept, no norm: E-SPA + TAT with branches scaled by 1/sqrt(L) (He et al. 2023, paper 001; branch scale a guess)",
           [] {
             Keys k = vanilla("espa");
             k.emplace_back("residual", "\"1/sqrt(L)\"");
             return k;
           }()),
      make("gap-removed", "003",
           "post-norm with the attention spectral gap removed, A - (1/T) 1 1^T (Naderi et al. 2024, paper 003)",
           {{"attention", "\"gap_removed\""}}),
      make("gap-removed-attn-only", "003",
           "attention-only, one head, skip and post-norm, gap removed: paper 003's model (Naderi et al. 2024)",
           {{"attention", "\"gap_removed\""}, {"mlp_width", "0"}, {"heads", "1"}}),
      make("shaped", "004",
           "shaped attention I + softmax(qk/tau) - C, lambda/gamma residual, shaped ReLU, no norm (Noci et al. 2023, paper 004)",
           {{"attention", "\"shaped\""}, {"norm", "\"none\""}, {"residual", "\"lambda_gamma\""},
            {"activation", "\"shaped_relu\""}, {"init", "\"lecun\""}}),
      make("pre-ln-qknorm", "",
           "pre-norm with each head's q and k RMS-normalised, learnable gains (Dehghani et al. 2023, ViT-22B)",
           {{"norm", "\"pre\""}, {"qk_norm", "true"}}),
      make("pre-ln-layerscale", "",
           "pre-norm with a learnable per-channel branch gain, 0.1/1e-5/1e-6 by depth at init (Touvron et al. 2021, CaiT)",
           {{"norm", "\"pre\""}, {"residual", "\"layerscale\""}}),
      make("rezero", "",
           "no norm, each branch times a learnable scalar that starts at 0 (Bachlechner et al. 2021, ReZero)",
           {{"norm", "\"none\""}, {"residual", "\"rezero\""}}),
      make("post-ln-deepnorm", "",
           "post-norm LN(a x + f(x)), a = (2L)^(1/4), block matrices but W_Q, W_K times (8L)^(-1/4) at init (Wang et al. 2022, DeepNet)",
           {{"residual", "\"deepnorm\""}}),
      make("sandwich-ln", "",
           "pre-norm plus a LayerNorm on each branch output before the residual add (Ding et al. 2021, CogView)",
           {{"norm", "\"sandwich\""}}),
      make("pre-ln-inv-depth", "",
           "pre-norm with residual branches scaled by 1/L (Dey et al. 2025, CompleteP)",
           {{"norm", "\"pre\""}, {"residual", "\"1/L\""}}),
  };
  return all;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& p : presets()) names.push_back(p.name);
  return names;
}

const Preset& find_preset(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) return p;
  std::string known;
  for (const auto& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("unknown preset '" + name + "'; known presets: " + known);
}

ModelSpec load_preset(const std::string& name) {
  const Preset& p = find_preset(name);
  return parse_spec_toml(p.toml, "preset " + name);
}

}  // namespace sigprop
