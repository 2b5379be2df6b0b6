// Case (e) of the benchmark: the finite shaped networks of `theory sde` (paper 004) with the
// reduced sampler (studies/sde/shaped_finite.h). Both sides read <dir>/sde.json:
//   {"width", "key_width", "depth", "networks", "tokens", "rho0", "gamma", "tau0", "seed"}.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "bench/bench_case.h"

namespace sigprop {

void write_sde_bench_inputs(const std::string& dir, const BenchCase& c);

// sigprop's side: simulate_shaped_networks on sde.json; returns {"seconds": [wall],
// "final_rho_mean": mean off-diagonal correlation after the last block}.
nlohmann::json time_sde(const std::string& dir);

}  // namespace sigprop
