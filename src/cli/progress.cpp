#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace sigprop::cli {

Progress::Progress(std::string label)
    : label_(std::move(label)), start_(std::chrono::steady_clock::now()), tty_(::isatty(2)) {}

void Progress::operator()(int done, int total, const std::string& what) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = done > 0 ? elapsed / done * (total - done) : 0.0;
  const std::string line = fmt::format("[{}] {}/{} {:<36} {:6.1f}s elapsed, ETA {:6.1f}s", label_,
                                       done, total, what, elapsed, eta);
  if (tty_) {
    fmt::print(stderr, "\r{}{}", line, done == total ? "\n" : "");
    return;
  }
  const int decile = total > 0 ? 10 * done / total : 10;
  if (decile != last_decile_ || done == total) fmt::print(stderr, "{}\n", line);
  last_decile_ = decile;
}

}  // namespace sigprop::cli
