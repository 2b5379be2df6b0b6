#include "core/progress.h"

#include <fmt/format.h>

namespace sigprop {

LogFn or_silent(const LogFn& log) {
  return log ? log : [](const std::string&) {};
}

std::string duration(double s) {
  return s >= 60 ? fmt::format("{}m{:02d}s", int(s) / 60, int(s) % 60) : fmt::format("{:.1f}s", s);
}

std::string elapsed_and_eta(double elapsed, int done, int remaining) {
  const double eta = done > 0 ? elapsed / done * remaining : 0.0;
  return fmt::format("elapsed {}, ETA {}", duration(elapsed), done > 0 ? duration(eta) : "?");
}

}  // namespace sigprop
