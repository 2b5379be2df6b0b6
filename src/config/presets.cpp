#include "config/presets.h"

#include "config/spec_io.h"
#include "core/error.h"

namespace sigprop {
namespace {

// Shared by the standard presets: a GPT-style character model of moderate size.
constexpr const char* kBase = R"(
depth = 8
width = 128
heads = 4
mlp_width = 512
activation = "relu"
norm_kind = "layernorm"
attention = "softmax"
causal = true
positional = "learned"
input = "tokens"
init = "xavier"
)";

Preset make(const std::string& name, const std::string& paper, const std::string& summary,
            const std::string& model_keys) {
  std::string toml = "name = \"" + name + "\"\n";
  if (!paper.empty()) toml += "paper = \"" + paper + "\"\n";
  toml += "description = \"" + summary + "\"\n\n[model]" + kBase + model_keys;
  return {name, summary, toml};
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = {
      make("post-ln", "", "post-norm transformer (Vaswani et al. 2017): LayerNorm after each residual sum",
           "norm = \"post\"\nresidual = 1.0\n"),
      make("pre-ln", "", "pre-norm transformer (GPT-2): LayerNorm inside each branch, final LayerNorm",
           "norm = \"pre\"\nresidual = 1.0\n"),
      make("post-ln-scaled", "002",
           "post-norm with residual branches scaled by 1/sqrt(L) (Noci et al. 2022, paper 002)",
           "norm = \"post\"\nresidual = \"1/sqrt(L)\"\n"),
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
