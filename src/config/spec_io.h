// Reading and writing ModelSpec: TOML files, `key=value` overrides, TOML and JSON output.
// Every key is declared once (spec_io.cpp, `fields()`), so parsing, overriding, printing and the
// error messages all agree on names, types and allowed values.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "config/model_spec.h"

namespace sigprop {

struct SpecKey {
  std::string key;
  std::string allowed;  // e.g. "pre | post | none", "integer >= 1"
  std::string help;
  // Every named value the key takes, in `key=value` form ("pre", "true", "1/sqrt(L)"), and one
  // number where numbers are allowed too; empty for keys that take any number or string. Tests
  // enumerate these, so a variant added to a key is covered without being named anywhere else.
  std::vector<std::string> choices;
};

// All `[model]` keys with what each allows; for --help and error messages.
const std::vector<SpecKey>& spec_keys();

// Parses a config document: optional top-level `name`, `paper`, `description`, and a `[model]`
// table whose keys override `base`. `source` names the file in error messages.
// Throws ConfigError on TOML syntax errors, unknown keys/tables, wrong types, impossible values.
ModelSpec parse_spec_toml(const std::string& text, const std::string& source,
                          const ModelSpec& base = ModelSpec{});
ModelSpec load_spec_file(const std::string& path, const ModelSpec& base = ModelSpec{});

// Applies one `key=value` override (value in TOML syntax; bare strings are accepted). Checks the
// key and the value's type; the caller validates the whole spec once all overrides are in, since
// some keys constrain each other (heads | width, tat_eta with depth).
void apply_override(ModelSpec& spec, const std::string& assignment);

// Sets one key from its text form ("128", "pre", "1/sqrt(L)", "true").
void set_spec_value(ModelSpec& spec, const std::string& key, const std::string& value);

// What was built, as 16 hex digits: the FNV-1a hash of the spec's `[model]` keys except depth
// (a column of its own wherever the id appears), so one configuration keeps its id across
// depths and a relabelled preset keeps it too; any other change of a key changes it.
std::string config_id(const ModelSpec& spec);

std::string spec_to_toml(const ModelSpec& spec, const std::string& description = "");
nlohmann::json spec_to_json(const ModelSpec& spec);
// Inverse of spec_to_json (run.json of a past run); throws ConfigError on unknown keys or values.
ModelSpec spec_from_json(const nlohmann::json& j);

}  // namespace sigprop
