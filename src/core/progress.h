// What long library calls report while they run, and how durations read. The library calls the
// sinks; the fronts decide where the words go (a redrawn stderr line, a log, Python's callback).
#pragma once

#include <functional>
#include <string>

namespace sigprop {

// `done` of `total` items finished, the last one described by `what`.
using ProgressFn = std::function<void(int done, int total, const std::string& what)>;
// One line of a driver's running commentary ("[race] 3/7 pre-ln lr 0.001 seed 0 ...").
using LogFn = std::function<void(const std::string& line)>;
// `log`, or a sink that drops every line when it is empty: drivers call it unchecked.
LogFn or_silent(const LogFn& log);

// "1m02s" from a minute on, "12.3s" below.
std::string duration(double seconds);

// "elapsed 1m02s, ETA 3m10s": `done` of `done + remaining` items took `elapsed` seconds; the
// rest are expected to take as long each on average.
std::string elapsed_and_eta(double elapsed, int done, int remaining);

}  // namespace sigprop
