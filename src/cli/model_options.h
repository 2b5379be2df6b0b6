// Command-line options that choose and adjust models, shared by every command that builds one.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/model_spec.h"

namespace sigprop::cli {

struct ModelOptions {
  std::vector<std::string> presets;  // --preset a,b,c
  std::vector<std::string> configs;  // --config f.toml (repeatable)
  int width = 0, heads = 0;          // 0 = keep the preset's
  std::vector<std::string> sets;     // --set key=value
};

void add_model_options(CLI::App* cmd, ModelOptions& options);

// Integers >= lo, with an error that says so in words (CLI11's own ranges print 300 digits).
CLI::Validator at_least(long lo);

// A command with its own --depth refuses a --set depth=... beside it: one of them would be
// silently ignored.
void refuse_set_depth(const ModelOptions& options);

// "post-ln" with --set norm=pre residual=0.5 -> "post-ln[norm=pre residual=0.5]": the name every
// table, figure and CSV row shows, so overrides are never hidden behind the preset's name.
std::string labelled(const std::string& name, const std::vector<std::string>& sets);

// Presets, then config files, each with --set, --width and --heads applied and validated; each
// name labelled with its --set overrides.
// With neither --preset nor --config, `default_presets` are used.
std::vector<ModelSpec> resolve_specs(const ModelOptions& options,
                                     const std::vector<std::string>& default_presets);

}  // namespace sigprop::cli
