#include "studies/sde/sde_study.h"

#include <stdexcept>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/error.h"
#include "math/covariance.h"

namespace sigprop {
namespace {

std::string finite_name(const std::string& kind, int64_t width, FiniteSampler s) {
  return fmt::format("{} n={} {}", kind, width, to_string(s));
}

CorrelationSeries from_sde(const std::string& name, const SdeResult& r) {
  CorrelationSeries s;
  s.name = s.kind = name;
  s.final_rho = first_pair_correlation(r.V);
  s.t = r.times;
  s.mean_rho = r.mean_rho;
  s.summary = summarize(s.final_rho);
  s.blown_up = r.blown_up;
  return s;
}

CorrelationSeries from_finite(const std::string& kind, const FiniteOptions& o,
                              const FiniteResult& r) {
  CorrelationSeries s;
  s.name = finite_name(kind, o.width, o.sampler);
  s.kind = kind;
  s.sampler = to_string(o.sampler);
  s.width = o.width;
  s.final_rho = first_pair_correlation(r.V);
  for (size_t l = 0; l < r.mean_rho.size(); ++l) s.t.push_back(double(l) / double(o.width));
  s.mean_rho = r.mean_rho;
  s.summary = summarize(s.final_rho);
  return s;
}

}  // namespace

void validate(const SdeStudyOptions& o) {
  validate(o.params);
  equicorrelated(o.tokens, o.rho0);  // checks --tokens and --rho0
  if (!(o.horizon > 0.0))
    throw ConfigError(fmt::format("--t {} is not allowed: expected t > 0", o.horizon));
  if (!(o.step > 0.0 && o.step <= o.horizon))
    throw ConfigError(
        fmt::format("--h {} is not allowed: expected 0 < h <= t = {}", o.step, o.horizon));
  if (o.paths < 2)
    throw ConfigError(fmt::format("--paths {} is not allowed: expected >= 2", o.paths));
  if (o.networks < 2)
    throw ConfigError(fmt::format("--networks {} is not allowed: expected >= 2", o.networks));
  if (o.full_networks < 0 || o.full_networks == 1)
    throw ConfigError(fmt::format("--full-networks {} is not allowed: expected 0 (none) or >= 2",
                                  o.full_networks));
  if (o.widths.empty()) throw ConfigError("--width needs at least one width");
  for (int64_t n : o.widths)
    if (n <= o.tokens)
      throw ConfigError(
          fmt::format("--width {} is not allowed: need n > m = {} tokens", n, o.tokens));
  if (o.key_width < 0 || (o.key_width > 0 && o.key_width < o.tokens))
    throw ConfigError(fmt::format("--key-width {} is not allowed: need 0 (= width) or >= m = {}",
                                  o.key_width, o.tokens));
}

const CorrelationSeries& SdeStudy::find(const std::string& name) const {
  for (const auto& s : series)
    if (s.name == name) return s;
  throw std::out_of_range("no series named " + name);
}

std::string headline_series(const SdeStudyOptions& o, int64_t width) {
  return finite_name("shaped", width, o.reduced ? FiniteSampler::Reduced : FiniteSampler::Gram);
}

SdeStudy run_sde_study(const SdeStudyOptions& o,
                       const std::function<void(int, int, const std::string&)>& progress) {
  validate(o);
  SdeStudy study;
  study.options = o;
  const auto V0 = equicorrelated(o.tokens, o.rho0);

  struct Job {
    std::string kind;
    FiniteSampler sampler;
    int64_t width, networks;
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < o.widths.size(); ++i) {
    const int64_t n = o.widths[i];
    jobs.push_back({"shaped", FiniteSampler::Gram, n, o.networks});
    if (o.reduced) jobs.push_back({"shaped", FiniteSampler::Reduced, n, o.networks});
    if (i == 0 && o.full_networks > 0)
      jobs.push_back({"shaped", FiniteSampler::Full, n, o.full_networks});
    jobs.push_back({"softmax", FiniteSampler::Gram, n, o.networks});
  }
  const int total = 2 + int(jobs.size());
  int done = 0;
  auto tick = [&](const std::string& what) {
    if (progress) progress(++done, total, what);
  };

  for (bool attention : {true, false}) {
    SdeOptions so;
    so.params = o.params;
    so.params.attention = attention;
    so.V0 = V0, so.horizon = o.horizon, so.step = o.step, so.paths = o.paths;
    so.seed = o.seed * 1000 + (attention ? 1 : 2);
    const std::string name = attention ? "sde" : "sde-no-attention";
    study.series.push_back(from_sde(name, simulate_shaped_sde(so)));
    tick(name);
  }
  for (size_t j = 0; j < jobs.size(); ++j) {
    FiniteOptions fo;
    fo.params = o.params;
    fo.params.attention = true;
    fo.shape = jobs[j].kind == "shaped" ? AttentionShape::Shaped : AttentionShape::Softmax;
    fo.sampler = jobs[j].sampler;
    fo.V0 = V0, fo.width = jobs[j].width, fo.key_width = o.key_width;
    fo.depth = depth_for_horizon(o.horizon, fo.width);
    fo.networks = jobs[j].networks;
    fo.seed = o.seed * 1000 + 10 + j;
    study.series.push_back(from_finite(jobs[j].kind, fo, simulate_shaped_networks(fo)));
    tick(study.series.back().name);
  }

  auto compare = [&](const CorrelationSeries& a, const CorrelationSeries& b) {
    KsComparison k;
    k.a = a.name, k.b = b.name;
    k.d = ks_two_sample(a.final_rho, b.final_rho);
    k.critical = ks_critical(a.final_rho.size(), b.final_rho.size());
    k.p_value = ks_pvalue(k.d, a.final_rho.size(), b.final_rho.size());
    study.ks.push_back(k);
  };
  const auto& sde = study.series[0];
  const auto& control = study.series[1];
  for (size_t i = 2; i < study.series.size(); ++i) {
    compare(study.series[i], sde);
    if (study.series[i].kind == "shaped") compare(study.series[i], control);
  }
  // The samplers against each other at the first width.
  const int64_t n0 = o.widths.front();
  std::vector<const CorrelationSeries*> first;
  for (const auto& s : study.series)
    if (s.kind == "shaped" && s.width == n0) first.push_back(&s);
  for (size_t i = 0; i < first.size(); ++i)
    for (size_t j = i + 1; j < first.size(); ++j) compare(*first[i], *first[j]);
  return study;
}

}  // namespace sigprop
