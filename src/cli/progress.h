// A progress line on stderr with count, elapsed time and ETA: redrawn in place on a terminal,
// one line per ~10% otherwise (logs, CI).
#pragma once

#include <chrono>
#include <string>

#include "core/progress.h"

namespace sigprop::cli {

class Progress {
 public:
  explicit Progress(std::string label);
  void operator()(int done, int total, const std::string& what);

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_;
  bool tty_;
  int last_decile_ = -1;
};

}  // namespace sigprop::cli
