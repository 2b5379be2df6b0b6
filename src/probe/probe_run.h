// `sigprop probe` as one call: check the plan (before any work or any file), run it, and save
// probe.csv, run.json and the figure into a folder published whole.
#pragma once

#include <string>
#include <vector>

#include "core/progress.h"
#include "probe/probe.h"

namespace sigprop {

struct ProbeRunOptions {
  ProbePlan plan;          // specs, depths, seeds, input, seq, batch, device (skip is filled here)
  std::string input_name;  // as given ("kjv"), for run.json
  std::string device_name = "cpu";
  // Under compare, where the presets were not chosen one by one, a (preset, depth) that cannot
  // be built (TAT's η out of reach of a shallow stack) is left out and said so; otherwise it is
  // an error.
  bool compare = false;
  std::string out = "runs/probe";
  bool force = false;  // replace a non-empty folder that is not sigprop's
  bool plot = true;
};

struct ProbeRunResult {
  std::vector<ProbeRow> rows;
  std::vector<std::string> skipped;  // "<preset> at depth <d>: <why>"
  double seconds = 0;
  std::vector<std::string> written;  // file names in `out`
};

// Throws ConfigError naming the preset and depth that cannot be built (or, under compare, when
// none can); `log` hears of each one left out before the work starts.
ProbeRunResult run_probe(ProbeRunOptions options, const ProgressFn& progress = nullptr,
                         const LogFn& log = nullptr);

}  // namespace sigprop
