// Errors the library throws; the CLI maps each kind to an exit code (core/exit_codes.h), the Python
// front to an exception (ConfigError: ValueError, DataError: OSError).
#pragma once

#include <stdexcept>
#include <string>

namespace sigprop {

// Bad configuration or command-line value: the message names the key and what is allowed.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Missing or corrupt data file: the message names the file and how to get it.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace sigprop
