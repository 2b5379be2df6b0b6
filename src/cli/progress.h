// A progress line on stderr with count, elapsed time and ETA: redrawn in place on a terminal,
// one line per ~10% otherwise (logs, CI).
#pragma once

#include <chrono>
#include <string>

namespace sigprop::cli {

// "1m02s" from a minute on, "12.3s" below.
std::string duration(double seconds);

// "elapsed 1m02s, ETA 3m10s": `done` of `done + remaining` items took `elapsed` seconds; the
// rest are expected to take as long each on average.
std::string elapsed_and_eta(double elapsed, int done, int remaining);

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
