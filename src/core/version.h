// Versions recorded in every run.json and printed by `sigprop env`.
#pragma once

#include <string>

namespace sigprop {

std::string sigprop_version();  // e.g. "0.1.0"
std::string git_revision();     // short hash of the source tree at configure time
std::string libtorch_version(); // e.g. "2.11.0"
// The interpreter whose torch this build links (the project's .venv, or pip's build environment):
// the default Python of the PyTorch peers and references.
std::string build_python();

}  // namespace sigprop
