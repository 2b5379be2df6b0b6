#include "config/toml_document.h"

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sigprop {

toml::table parse_toml_document(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: TOML syntax error: {}", source, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
}

std::string read_config_text(const std::string& path, const std::string& what) {
  try {
    return read_file(path);
  } catch (const DataError&) {
    throw ConfigError("cannot read " + what + " " + path);
  }
}

}  // namespace sigprop
