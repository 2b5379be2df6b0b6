// Files written whole or not at all: content goes to a temporary file beside the target,
// is flushed, then renamed over it (rename is atomic within a file system).
#pragma once

#include <string>

namespace sigprop {

void write_file_atomic(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);  // throws DataError naming the file

}  // namespace sigprop
