// Case (d) of the benchmark: a whole `probe --compare` (every preset at one depth and width, the
// command's default seeds, batch and input). The harness writes the folder both sides read:
//   probe.json        {"depth", "width", "seeds", "batch", "seq", "runs": [{"preset", "seed",
//                      "model": the resolved spec}]} in sigprop's run order;
//   probe_inputs.safetensors   "input.<seed>", "target.<seed>": the KJV batch of each seed.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "bench/bench_case.h"

namespace sigprop {

void write_probe_bench_inputs(const std::string& dir, const BenchCase& c);

// sigprop's side: runs the plan of probe.json as `probe --compare` does (run_probe_plan) and
// returns {"seconds": [wall of the run], "rows": [{"preset", "seed", "cosine", ...} of each
// model's last layer]}.
nlohmann::json time_probe(const std::string& dir);

}  // namespace sigprop
