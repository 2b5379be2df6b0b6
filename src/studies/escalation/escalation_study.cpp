#include "studies/escalation/escalation_study.h"

#include <cmath>
#include <map>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"
#include "probe/probe.h"

namespace sigprop {

void validate(const EscalationOptions& o) {
  if (o.specs.empty()) throw ConfigError("--preset: at least one model is needed");
  if (o.depth < 2 || o.depth > 4096)
    throw ConfigError(fmt::format("--depth {} is not allowed: expected 2..4096", o.depth));
  if (o.seq < 2) throw ConfigError(fmt::format("--seq {} is not allowed: expected >= 2", o.seq));
  if (o.batch < 1)
    throw ConfigError(fmt::format("--batch {} is not allowed: expected >= 1", o.batch));
  if (o.seeds < 1)
    throw ConfigError(fmt::format("--inits {} is not allowed: expected >= 1", o.seeds));
  for (const auto& s : o.specs) {
    ModelSpec spec = s;
    spec.depth = o.depth;
    spec_for_probe_input(spec, o.input, o.seq, 2);
  }
}

EscalationStudy run_escalation_study(
    const EscalationOptions& o, const std::function<void(int, int, const std::string&)>& progress) {
  validate(o);
  ProbePlan plan;
  plan.specs = o.specs;
  plan.depths = {o.depth};
  for (int s = 0; s < o.seeds; ++s) plan.seeds.push_back(o.first_seed + uint64_t(s));
  plan.input = o.input, plan.seq = o.seq, plan.batch = o.batch;
  const auto rows = run_probe_plan(plan, progress);

  EscalationStudy study;
  study.options = o;
  for (const auto& spec : o.specs) {
    // Per seed, per layer: t_div and λ₂.
    std::map<uint64_t, std::vector<const LayerMetrics*>> by_seed;
    for (const auto& r : rows)
      if (r.preset == spec.name) by_seed[r.seed].push_back(&r.m);
    for (int l = 0; l <= o.depth; ++l) {
      EscalationLayer e;
      e.preset = spec.name, e.layer = l;
      double log_ratio = 0;
      for (const auto& [seed, ms] : by_seed) {
        e.t_div += (1.0 - ms[l]->t_sim) / by_seed.size();
        if (l > 0) {
          e.lambda2 += ms[l]->attn_lambda2 / by_seed.size();
          log_ratio += std::log((1.0 - ms[l]->t_sim) / (1.0 - ms[l - 1]->t_sim)) / by_seed.size();
        }
      }
      e.ratio = l > 0 ? std::exp(log_ratio) : std::nan("");
      if (l == 0) e.lambda2 = std::nan("");
      study.layers.push_back(e);
    }
    EscalationFit f;
    f.preset = spec.name;
    std::vector<double> x, y;
    double l2 = 0, l2sq = 0;
    for (const auto& e : study.layers) {
      if (e.preset != spec.name) continue;
      if (!(e.t_div > o.floor)) break;
      x.push_back(e.layer), y.push_back(std::log(e.t_div));
      if (e.layer > 0) l2 += e.lambda2, l2sq += e.lambda2 * e.lambda2;
    }
    f.layers_fitted = int(x.size());
    if (x.size() >= 2) {
      f.log_fit = fit_line(x, y);
      f.rate = std::exp(f.log_fit.slope);
      f.lambda2_mean = l2 / double(x.size() - 1);
      f.lambda2_sq_mean = l2sq / double(x.size() - 1);
    } else {
      f.rate = f.lambda2_mean = f.lambda2_sq_mean = std::nan("");
    }
    study.fits.push_back(f);
  }
  return study;
}

}  // namespace sigprop
