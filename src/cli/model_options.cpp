#include "cli/model_options.h"

#include "config/presets.h"
#include "config/spec_io.h"

namespace sigprop::cli {

void add_model_options(CLI::App* cmd, ModelOptions& o) {
  cmd->add_option("--preset", o.presets, "preset name(s), comma-separated (see `sigprop presets`)")
      ->delimiter(',');
  cmd->add_option("--config", o.configs, "TOML config file(s) ([model] table)");
  cmd->add_option("--width", o.width, "model width d (overrides the preset)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--heads", o.heads, "attention heads (overrides the preset)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--set", o.sets, "override any model key: --set norm=pre --set d_k=16");
}

std::vector<ModelSpec> resolve_specs(const ModelOptions& o,
                                     const std::vector<std::string>& default_presets) {
  std::vector<ModelSpec> specs;
  const auto& names = o.presets.empty() && o.configs.empty() ? default_presets : o.presets;
  for (const auto& name : names) specs.push_back(load_preset(name));
  for (const auto& path : o.configs) specs.push_back(load_spec_file(path));
  for (auto& spec : specs) {
    for (const auto& s : o.sets) apply_override(spec, s);
    if (o.width) spec.width = o.width;
    if (o.heads) spec.heads = o.heads;
    spec.validate();
  }
  return specs;
}

}  // namespace sigprop::cli
