#include "cli/model_options.h"

#include <algorithm>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"
#include "model/transformer.h"

namespace sigprop::cli {

void add_model_options(CLI::App* cmd, ModelOptions& o) {
  cmd->add_option("--preset", o.presets, "preset name(s), comma-separated (see `sigprop presets`)")
      ->delimiter(',');
  cmd->add_option("--config", o.configs, "TOML config file(s) ([model] table)");
  cmd->add_option("--width", o.width, "model width d (overrides the preset)")->check(at_least(1));
  cmd->add_option("--heads", o.heads, "attention heads (overrides the preset)")->check(at_least(1));
  cmd->add_option("--set", o.sets, "override any model key: --set norm=pre --set d_k=16");
}

std::string labelled(const std::string& name, const std::vector<std::string>& sets) {
  if (sets.empty()) return name;
  std::string label = name + "[";
  for (size_t i = 0; i < sets.size(); ++i) label += (i ? " " : "") + sets[i];
  label += "]";
  std::replace(label.begin(), label.end(), ',', ';');  // the label is a CSV field
  return label;
}

CLI::Validator at_least(long lo) {
  return CLI::Validator(
      [lo](std::string& text) -> std::string {
        try {
          size_t used = 0;
          const long v = std::stol(text, &used);
          if (used == text.size() && v >= lo) return "";
        } catch (const std::exception&) {
        }
        return "'" + text + "' is not allowed: expected an integer >= " + std::to_string(lo);
      },
      "INT>=" + std::to_string(lo));
}

void refuse_set_depth(const ModelOptions& o) {
  for (const auto& s : o.sets)
    if (s.rfind("depth=", 0) == 0)
      throw ConfigError("--set " + s + " and --depth both set the depth; give it once, with --depth");
}

std::vector<ModelSpec> resolve_specs(const ModelOptions& o,
                                     const std::vector<std::string>& default_presets) {
  std::vector<ModelSpec> specs;
  const auto& names = o.presets.empty() && o.configs.empty() ? default_presets : o.presets;
  for (const auto& name : names) specs.push_back(load_preset(name));
  for (const auto& path : o.configs) specs.push_back(load_spec_file(path));
  for (auto& spec : specs) {
    for (const auto& s : o.sets) apply_override(spec, s);
    spec.name = labelled(spec.name, o.sets);
    if (o.width) spec.width = o.width;
    if (o.heads) spec.heads = o.heads;
    check_buildable(spec);
  }
  return specs;
}

}  // namespace sigprop::cli
