// `sigprop bench` as one call: each case's two sides (sigprop's `bench-worker` and the PyTorch
// peer) in their own processes, alternating A/B then B/A, medians, throughput and peak memory,
// written to bench.csv and run.json in a folder published whole.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/progress.h"

namespace sigprop {

struct BenchOptions {
  std::string cases = "a,b,c,d,e,nn,py-probe";
  std::string out = "runs/bench";
  std::string python;                       // the Python with torch; "" = the build's (build_python)
  std::string peers;                        // folder of the peers; "" = the source tree's bench/
  int repeats = 5;                          // processes per side
  bool quick = false;                       // 2 timed steps: checks the harness, not for quoting
  bool force = false;
  std::string device = "cpu";               // where the training cases (a-c) run, on both sides
  std::string sigprop = "/proc/self/exe";   // the executable whose bench-worker is timed
};

struct BenchResult {
  nlohmann::json rows;  // one object per case, the columns of bench.csv
  int repeats = 0;
};

// `log` receives the machine line and one line per repeat. Throws ConfigError on bad options,
// DataError when a side fails (with the end of its output).
BenchResult run_bench(const BenchOptions& options, const LogFn& log = nullptr);

// The table printed after a run: one row per case, its agreement line beneath.
std::string bench_table(const BenchResult& result);

}  // namespace sigprop
