// Ctrl-C for long commands: the first SIGINT sets a flag the library polls (it saves and stops
// cleanly); a second one kills the process as usual.
#pragma once

#include <atomic>

namespace sigprop {

const std::atomic<bool>* install_interrupt_flag();

}  // namespace sigprop
