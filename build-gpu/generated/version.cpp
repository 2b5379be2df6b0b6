#include "core/version.h"

#include <torch/version.h>

namespace sigprop {

std::string sigprop_version() { return "0.1.0"; }
std::string git_revision() { return "f40c15e"; }
std::string libtorch_version() { return TORCH_VERSION; }
std::string build_python() { return "/work/main/.venv/bin/python"; }

}  // namespace sigprop
