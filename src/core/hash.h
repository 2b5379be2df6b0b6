// Short, stable names for things: 64-bit FNV-1a as 16 hex digits. Used for sweep cells and
// config_id; not for security.
#pragma once

#include <string>

namespace sigprop {

std::string fnv1a_hex(const std::string& text);

}  // namespace sigprop
