#include "bench/sde_timing.h"

#include <chrono>

#include "core/atomic_file.h"
#include "math/covariance.h"
#include "studies/sde/sde_study.h"
#include "studies/sde/shaped_finite.h"

namespace sigprop {

void write_sde_bench_inputs(const std::string& dir, const BenchCase& c) {
  const SdeStudyOptions defaults;  // theory sde's defaults, but for the case's sizes
  const nlohmann::json j = {{"width", c.spec.width},         {"key_width", c.spec.width},
                            {"depth", c.spec.depth},         {"networks", c.networks},
                            {"tokens", defaults.tokens},     {"rho0", defaults.rho0},
                            {"gamma", defaults.params.gamma}, {"tau0", defaults.params.tau0},
                            {"seed", defaults.seed}};
  write_file_atomic(dir + "/sde.json", j.dump(2) + "\n");
}

nlohmann::json time_sde(const std::string& dir) {
  const auto j = nlohmann::json::parse(read_file(dir + "/sde.json"));
  FiniteOptions o;
  o.params.gamma = j.at("gamma").get<double>();
  o.params.tau0 = j.at("tau0").get<double>();
  o.shape = AttentionShape::Shaped;
  o.sampler = FiniteSampler::Reduced;
  o.V0 = equicorrelated(j.at("tokens").get<int64_t>(), j.at("rho0").get<double>());
  o.width = j.at("width").get<int64_t>();
  o.key_width = j.at("key_width").get<int64_t>();
  o.depth = j.at("depth").get<int64_t>();
  o.networks = j.at("networks").get<int64_t>();
  o.seed = j.at("seed").get<uint64_t>();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = simulate_shaped_networks(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {{"seconds", nlohmann::json::array({seconds})}, {"final_rho_mean", r.mean_rho.back()}};
}

}  // namespace sigprop
