// Reading a TOML file that configures sigprop (model specs, sweep grids, reproduction plans):
// syntax errors and unreadable files become ConfigErrors naming the file, line and column.
#pragma once

#include <string>

#include <toml++/toml.h>

namespace sigprop {

toml::table parse_toml_document(const std::string& text, const std::string& source);
// The file's text; `what` names it in the error ("grid file", "reproduction plan").
std::string read_config_text(const std::string& path, const std::string& what);

}  // namespace sigprop
