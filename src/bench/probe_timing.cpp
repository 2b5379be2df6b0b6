#include "bench/probe_timing.h"

#include <chrono>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/atomic_file.h"
#include "core/tensor_dict.h"
#include "data/kjv.h"
#include "probe/probe.h"

namespace sigprop {
namespace {

ProbePlan plan_of(const nlohmann::json& j) {
  ProbePlan plan;
  for (const auto& name : preset_names()) {
    ModelSpec spec = load_preset(name);
    spec.width = j.at("width").get<int>();
    plan.specs.push_back(spec);
  }
  plan.depths = {j.at("depth").get<int>()};
  for (int s = 0; s < j.at("seeds").get<int>(); ++s) plan.seeds.push_back(uint64_t(s));
  plan.input = ProbeInput::KJV;
  plan.batch = j.at("batch").get<int64_t>();
  plan.seq = j.at("seq").get<int64_t>();
  return plan;
}

}  // namespace

void write_probe_bench_inputs(const std::string& dir, const BenchCase& c) {
  nlohmann::json j = {{"depth", c.spec.depth}, {"width", c.spec.width}, {"seeds", c.seeds},
                      {"batch", c.batch},      {"seq", c.seq}};
  const ProbePlan plan = plan_of(j);
  const CharCorpus corpus = load_kjv();
  const auto vocab = int64_t(corpus.vocab.size());
  TensorDict batches;
  nlohmann::json runs = nlohmann::json::array();
  for (uint64_t seed : plan.seeds) {  // run_probe_plan's order: seed, preset, depth
    const auto batch = make_probe_batch(plan.input, c.spec.width, plan.batch, plan.seq, seed, &corpus);
    batches.insert("input." + std::to_string(seed), batch.input);
    batches.insert("target." + std::to_string(seed), batch.target);
    for (ModelSpec spec : plan.specs) {
      spec.depth = plan.depths.front();
      spec = spec_for_probe_input(spec, plan.input, plan.seq, vocab);
      runs.push_back({{"preset", spec.name}, {"seed", seed}, {"model", spec_to_json(spec).at("model")}});
    }
  }
  j["runs"] = runs;
  save_tensor_dict(dir + "/probe_inputs.safetensors", batches);
  write_file_atomic(dir + "/probe.json", j.dump(2) + "\n");
}

nlohmann::json time_probe(const std::string& dir) {
  const ProbePlan plan = plan_of(nlohmann::json::parse(read_file(dir + "/probe.json")));
  const auto t0 = std::chrono::steady_clock::now();
  const auto rows = run_probe_plan(plan);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json last = nlohmann::json::array();
  for (const auto& r : rows)
    if (r.m.layer == r.depth)
      last.push_back({{"preset", r.preset}, {"seed", r.seed}, {"cosine", r.m.cosine},
                      {"t_sim", r.m.t_sim}, {"stable_rank", r.m.stable_rank}});
  return {{"seconds", nlohmann::json::array({seconds})}, {"rows", last}};
}

}  // namespace sigprop
