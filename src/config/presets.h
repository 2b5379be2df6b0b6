// Named configurations, after what users read in the papers. Each is TOML text parsed by the
// same reader as a user's file, so `sigprop presets --show NAME` prints something to copy.
#pragma once

#include <string>
#include <vector>

#include "config/model_spec.h"

namespace sigprop {

struct Preset {
  std::string name;
  std::string summary;  // one line, naming the paper
  std::string toml;     // the full configuration
};

const std::vector<Preset>& presets();
std::vector<std::string> preset_names();
// Throws ConfigError listing the known presets.
const Preset& find_preset(const std::string& name);
ModelSpec load_preset(const std::string& name);

}  // namespace sigprop
