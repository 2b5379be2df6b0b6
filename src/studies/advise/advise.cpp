#include "studies/advise/advise.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "config/presets.h"
#include "config/spec_io.h"
#include "core/error.h"
#include "core/gnuplot.h"
#include "data/kjv.h"
#include "model/transformer.h"
#include "studies/predict/predict.h"

using Json = nlohmann::json;

namespace sigprop {
namespace {

constexpr double kNonFinitePenalty = 10;  // an overflow at init outranks every other finding

// Mean of the finite values; NaN when there are none.
double finite_mean(const std::vector<double>& v) {
  double sum = 0;
  int n = 0;
  for (double x : v)
    if (std::isfinite(x)) sum += x, ++n;
  return n ? sum / n : NAN;
}

double capped(double p) { return std::clamp(p, 0.0, kMaxPenalty); }

// The seed mean of f(rows of one seed), over the seeds whose every layer is finite.
template <class F>
double over_seeds(const std::vector<std::vector<LayerMetrics>>& seeds, F f) {
  std::vector<double> v;
  for (const auto& rows : seeds) {
    const bool finite = std::all_of(rows.begin(), rows.end(), [](const auto& m) { return m.finite != 0; });
    if (finite) v.push_back(f(rows));
  }
  return finite_mean(v);
}

std::string number(double v) { return std::isfinite(v) ? fmt::format("{:.3g}", v) : "n/a"; }

// The registry of fixes: each a preset whose recipe (its keys that differ from post-ln) is the
// fix. gap-removed-attn-only is paper 003's model (no MLPs, one head), not a fix, so is absent.
const std::vector<FixDoc> kFixes = {
    {"pre-ln", "rank collapse, gradient spread (the norm moves inside the branch)"},
    {"post-ln-scaled", "rank collapse, query/key starvation (branches scaled by 1/sqrt(L), paper 002)"},
    {"post-ln-simremove", "rank collapse (the mean token removed from each branch, paper 000)"},
    {"gap-removed", "the spectral gap of attention (A - 11^T/T, paper 003)"},
    {"shaped", "rank collapse and starvation with a well-posed depth-width limit (paper 004)"},
    {"vanilla-espa-tat", "trainability without skips or norms: E-SPA attention, TAT MLPs (paper 001)"},
    {"vanilla-uspa-tat", "trainability without skips or norms: U-SPA attention, TAT MLPs (paper 001)"},
    {"vanilla-vskipinit-tat", "trainability without skips or norms: Value-SkipInit, TAT MLPs (paper 001)"},
    {"noln-espa-tat", "trainability without norms, skips kept: E-SPA + TAT (paper 001)"},
    {"pre-ln-qknorm", "attention-logit growth and entropy collapse (q, k RMS-normalised per head, ViT-22B)"},
    {"pre-ln-layerscale", "gradient spread, rank collapse in deep stacks (learnable per-channel branch gains, CaiT)"},
    {"rezero", "trainability without norms (each block the identity at init, ReZero)"},
    {"post-ln-deepnorm", "post-norm's gradient spread at depth (a = (2L)^(1/4) skip, beta-scaled init, DeepNet)"},
    {"sandwich-ln", "pre-norm's growing stream (each branch output normalised, CogView)"},
    {"pre-ln-inv-depth", "gradient spread and depth transfer (branches scaled by 1/L, CompleteP)"},
};

// Keys a fix never carries: the model's size is the user's.
bool is_size_key(const std::string& key) {
  return key == "depth" || key == "width" || key == "heads" || key == "d_k" || key == "max_seq" ||
         key == "vocab_size";
}

std::string value_text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Lines `key=value` for the keys on which `after` differs from `before`.
std::vector<std::string> changed_keys(const ModelSpec& before, const ModelSpec& after) {
  const Json a = spec_to_json(before).at("model"), b = spec_to_json(after).at("model");
  std::vector<std::string> lines;
  for (const auto& [key, v] : b.items())
    if (!a.contains(key) || a.at(key) != v) lines.push_back(key + "=" + value_text(v));
  return lines;
}

Finding rank_collapse(const std::vector<std::vector<LayerMetrics>>& seeds, double t) {
  Finding f{"rank_collapse"};
  f.threshold = t;
  f.value = over_seeds(seeds, [](const auto& rows) { return rows.back().cosine; });
  // The first block whose seed-mean cosine passes the threshold.
  const size_t layers = seeds.front().size();
  for (size_t l = 1; l < layers && f.block < 0; ++l)
    if (over_seeds(seeds, [l](const auto& rows) { return rows[l].cosine; }) > t) f.block = int(l);
  f.penalty = finding_penalty(f.name, f.value, t);
  f.present = f.value > t;
  f.text = f.present ? fmt::format("tokens collapse: final-layer cosine {:.4g} > {} (first past it at block {})",
                                   f.value, t, f.block)
           : std::isfinite(f.value) ? fmt::format("no rank collapse: final-layer cosine {:.3g} <= {}", f.value, t)
                                    : "rank collapse not measured (no finite seed)";
  return f;
}

Finding qk_starvation(const std::vector<std::vector<LayerMetrics>>& seeds, double t) {
  Finding f{"qk_starvation"};
  f.threshold = t;
  f.value = over_seeds(seeds, [](const auto& rows) { return rows.back().grad_q / rows.back().grad_v; });
  f.present = f.value < t;
  f.penalty = finding_penalty(f.name, f.value, t);
  if (!std::isfinite(f.value))
    f.text = "query/key gradients not measured (no W_Q or W_V at the last block)";
  else if (f.value == 0)
    f.text = fmt::format("query/key gradients are zero at the last block: its attention logits get no gradient "
                         "at init (a gate starting at 0 does this, as Value-SkipInit's beta)");
  else
    f.text = fmt::format("{}: |grad W_Q| / |grad W_V| = {:.3g} at the last block {} {}",
                         f.present ? "query/key gradients starve" : "query/key gradients flow", f.value,
                         f.present ? "<" : ">=", t);
  return f;
}

Finding spectral_gap(const std::vector<std::vector<LayerMetrics>>& seeds, double t) {
  Finding f{"spectral_gap"};
  f.threshold = t;
  f.value = over_seeds(seeds, [](const auto& rows) { return rows.back().attn_sigma1 / rows.back().attn_sigma2; });
  f.present = f.value > t;
  f.penalty = finding_penalty(f.name, f.value, t);
  f.text = !std::isfinite(f.value) && !f.present
               ? "spectral gap not measured (the last block's attention matrix is not reachable)"
               : fmt::format("{}: sigma1/sigma2 of the last block's attention = {} {} {}",
                             f.present ? "attention carries a spectral gap" : "no spectral gap",
                             number(f.value), f.present ? ">" : "<=", t);
  return f;
}

Finding gradient_spread(const std::vector<std::vector<LayerMetrics>>& seeds, double t) {
  Finding f{"gradient_spread"};
  f.threshold = t;
  f.value = over_seeds(seeds, [](const auto& rows) { return rows[1].grad_v / rows.back().grad_v; });
  const double spread = f.value > 0 ? std::max(f.value, 1 / f.value) : NAN;
  f.present = spread > t;
  f.penalty = finding_penalty(f.name, f.value, t);
  f.text = std::isfinite(spread)
               ? fmt::format("{}: |grad W_V| of block 1 / of the last block = {:.3g} ({} x{})",
                             f.present ? "gradient norms spread over depth" : "gradient norms even over depth",
                             f.value, f.present ? "beyond" : "within", t)
               : "gradient spread not measured (no W_V gradient)";
  return f;
}

Finding initial_loss(const std::vector<std::vector<LayerMetrics>>& seeds, double chance, double t) {
  Finding f{"initial_loss"};
  f.threshold = t;
  f.value = over_seeds(seeds, [](const auto& rows) { return rows.front().loss; }) - chance;
  f.present = f.value > t;
  f.penalty = finding_penalty(f.name, f.value, t);
  f.text = std::isfinite(f.value)
               ? fmt::format("initial loss {:.3f} nats, {:+.3f} against chance ln(classes) = {:.3f} ({} {})",
                             f.value + chance, f.value, chance, f.present ? ">" : "<=", t)
               : "initial loss against chance not judged (not a classification loss)";
  return f;
}

// The fix's preset against post-ln, key by key.
std::vector<std::pair<std::string, std::string>> recipe_of(const std::string& name) {
  const Json base = spec_to_json(load_preset("post-ln")).at("model");
  const Json fixed = spec_to_json(load_preset(name)).at("model");
  std::vector<std::pair<std::string, std::string>> recipe;
  for (const auto& [key, v] : fixed.items())
    if (!is_size_key(key) && base.at(key) != v) recipe.emplace_back(key, value_text(v));
  return recipe;
}

std::string fix_list() {
  std::string s;
  for (const auto& f : kFixes) s += (s.empty() ? "" : ", ") + f.name;
  return s;
}

}  // namespace

double finding_penalty(const std::string& name, double v, double t) {
  if (std::isnan(v)) return 0;  // not measured: nothing to count
  if (name == "rank_collapse") return v <= t ? 0 : v >= 1 ? kMaxPenalty : capped(std::log10((1 - t) / (1 - v)));
  if (name == "qk_starvation") return v >= t ? 0 : v <= 0 ? kMaxPenalty : capped(std::log10(t / v));
  if (name == "spectral_gap") return v <= t ? 0 : std::isinf(v) ? kMaxPenalty : capped(std::log10(v / t));
  if (name == "gradient_spread") {
    const double spread = v > 0 ? std::max(v, 1 / v) : NAN;
    return !(spread > t) ? 0 : capped(std::log10(spread / t));
  }
  if (name == "initial_loss") return v <= t ? 0 : capped(v - t);
  throw ConfigError(fmt::format("no finding '{}'; findings with a threshold: rank_collapse, qk_starvation, "
                                "spectral_gap, gradient_spread, initial_loss", name));
}

TieBreak parse_tie_break(const std::string& s) {
  if (s == "balance") return TieBreak::Balance;
  if (s == "cosine") return TieBreak::Cosine;
  throw ConfigError(fmt::format("tie-break '{}' is not one of: balance, cosine", s));
}

std::string to_string(TieBreak t) { return t == TieBreak::Balance ? "balance" : "cosine"; }

bool ranks_before(const Diagnosis& a, const Diagnosis& b, TieBreak tie_break) {
  if (a.score != b.score) return a.score > b.score;
  const double x = tie_break == TieBreak::Balance ? a.balance : a.finding("rank_collapse").value;
  const double y = tie_break == TieBreak::Balance ? b.balance : b.finding("rank_collapse").value;
  if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);  // unmeasured goes last
  return x < y;
}

const Finding& Diagnosis::finding(const std::string& name) const {
  for (const auto& f : findings)
    if (f.name == name) return f;
  throw std::out_of_range("no finding " + name);
}

Diagnosis diagnose(const std::vector<std::vector<LayerMetrics>>& seeds, double chance_loss,
                   const AdviseThresholds& t, const AdviseWeights& w) {
  if (seeds.empty() || seeds.front().size() < 2)
    throw ConfigError("diagnose needs at least one seed of a probed model with one block or more");
  for (const auto& rows : seeds)
    if (rows.size() != seeds.front().size())
      throw ConfigError("diagnose: every seed must have the same number of layers");
  Diagnosis d;
  d.depth = int(seeds.front().size()) - 1;
  d.findings = {rank_collapse(seeds, t.collapse_cosine), qk_starvation(seeds, t.qk_ratio),
                spectral_gap(seeds, t.spectral_gap), gradient_spread(seeds, t.gradient_spread),
                initial_loss(seeds, chance_loss, t.loss_excess)};
  int overflowed = 0;
  for (const auto& rows : seeds)
    if (std::any_of(rows.begin(), rows.end(), [](const auto& m) { return m.finite == 0; })) ++overflowed;
  Finding nf{"non_finite"};
  nf.value = overflowed, nf.threshold = 0, nf.present = overflowed > 0;
  nf.penalty = nf.present ? kNonFinitePenalty : 0;
  nf.text = nf.present ? fmt::format("the forward or backward overflows at init in {} of {} seeds", overflowed,
                                     seeds.size())
                       : "finite at init in every seed";
  d.findings.push_back(nf);
  d.finite = !nf.present;
  const double weights[] = {w.collapse, w.qk, w.gap, w.spread, w.loss, 1.0};
  for (size_t i = 0; i < d.findings.size(); ++i) d.score -= weights[i] * d.findings[i].penalty;
  // log10 of a ratio of 0 is -inf: a gradient that is exactly zero is as unbalanced as it gets.
  const auto decades = [](double ratio) { return ratio >= 0 ? std::abs(std::log10(ratio)) : NAN; };
  d.balance = decades(d.finding("gradient_spread").value) + decades(d.finding("qk_starvation").value);
  return d;
}

const std::vector<FixDoc>& fix_docs() { return kFixes; }

std::vector<std::string> fix_names() {
  std::vector<std::string> names;
  for (const auto& f : kFixes) names.push_back(f.name);
  return names;
}

std::vector<std::pair<std::string, std::string>> fix_recipe(const std::string& name) {
  for (const auto& f : kFixes)
    if (f.name == name) return recipe_of(name);
  throw ConfigError(fmt::format("unknown fix '{}'; fixes: {}", name, fix_list()));
}

ModelSpec apply_fix(const ModelSpec& spec, const std::string& name, std::vector<std::string>* changed) {
  ModelSpec fixed = spec;
  for (const auto& [key, value] : fix_recipe(name)) set_spec_value(fixed, key, value);
  fixed.name = name;
  fixed.validate();
  if (changed) *changed = changed_keys(spec, fixed);
  return fixed;
}

void validate(const AdviseOptions& o) {
  if (o.seeds < 1) throw ConfigError("--seeds must be >= 1");
  if (o.seq < 2) throw ConfigError("--seq must be >= 2");
  if (o.batch < 1) throw ConfigError("--batch must be >= 1");
  if (o.train_steps < 0) throw ConfigError("--train-steps must be >= 0");
  if (o.train_steps > 0 && !o.rank_fixes)
    throw ConfigError("--train-steps races the ranked fixes; it cannot go with --diagnose-only");
  if (o.confirm_top < 1) throw ConfigError("--confirm-top must be >= 1");
  if (o.predict_first && !(o.predict_margin >= 0)) throw ConfigError("--predict-margin must be >= 0");
  if (o.predict_first && !o.rank_fixes)
    throw ConfigError("--predict-first rules out fixes before probing; it cannot go with --diagnose-only");
  const AdviseThresholds& t = o.thresholds;
  if (!(t.collapse_cosine > -1 && t.collapse_cosine < 1))
    throw ConfigError("--collapse-cosine must be in (-1, 1)");
  const std::initializer_list<std::pair<const char*, double>> positive = {
      {"--qk-ratio", t.qk_ratio}, {"--spectral-gap", t.spectral_gap}, {"--gradient-spread", t.gradient_spread}};
  for (const auto& [name, v] : positive)
    if (!(v > 0)) throw ConfigError(fmt::format("{} must be > 0", name));
  for (const auto& f : o.fixes) fix_recipe(f);  // names the unknown one
  o.spec.validate();
  try {
    check_buildable(o.spec);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{} at depth {}: {}", o.spec.name, o.spec.depth, e.what()));
  }
  if (o.train_steps > 0) {
    TrainConfig c = o.race.config;
    c.steps = o.train_steps;
    c.validate();
  }
}

namespace {

// Leaves out of `candidates` (never the model as it is) every fix whose predicted final-layer
// cosine on seed 0's probe batch is past collapse_cosine + predict_margin.
void rule_out_by_prediction(const AdviseOptions& o, std::vector<AdviseCandidate>& candidates, Advice& advice,
                            const LogFn& say) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<CharCorpus> corpus;
  if (o.input == ProbeInput::KJV) corpus = std::make_unique<CharCorpus>(load_kjv());
  const int64_t vocab = corpus ? int64_t(corpus->vocab.size()) : 0;
  const double limit = o.thresholds.collapse_cosine + o.predict_margin;
  std::vector<AdviseCandidate> kept{candidates.front()};
  for (size_t i = 1; i < candidates.size(); ++i) {
    const auto spec = spec_for_probe_input(candidates[i].spec, o.input, o.seq, vocab);
    // A screen, not a measurement: two sequences on two paths each (the margin covers the
    // Monte Carlo error), so that it costs less than probing even at small widths.
    const auto batch = make_probe_batch(o.input, spec.width, std::min<int64_t>(o.batch, 2), o.seq, 0, corpus.get());
    PredictOptions screen;
    screen.paths = 2;
    const double cosine = predict_layers(spec, kernel_input(spec, batch), screen).back().cosine;
    if (cosine > limit) {
      advice.skipped.push_back(fmt::format("{}: predicted final-layer cosine {:.4f} > {:.2f} (collapse_cosine "
                                           "+ margin): rank collapse, not probed",
                                           candidates[i].name, cosine, limit));
      ++advice.ruled_out;
    } else {
      kept.push_back(candidates[i]);
    }
  }
  candidates = kept;
  advice.predict_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  say(fmt::format("predicted {} fixes in {:.1f}s", candidates.size() - 1 + advice.ruled_out, advice.predict_seconds));
}

}  // namespace

Advice advise(const AdviseOptions& o, const ProgressFn& progress, const LogFn& log,
              const std::atomic<bool>* stop) {
  validate(o);
  const auto start = std::chrono::steady_clock::now();
  const LogFn say = or_silent(log);
  Advice advice;
  advice.as_is.name = "as-is";
  advice.as_is.spec = o.spec;
  advice.as_is.spec.name = "as-is";
  std::vector<AdviseCandidate> candidates{advice.as_is};
  for (const auto& name : !o.rank_fixes ? std::vector<std::string>{} : o.fixes.empty() ? fix_names() : o.fixes) {
    AdviseCandidate c;
    c.name = name;
    try {
      c.spec = apply_fix(o.spec, name, &c.sets);
      check_buildable(c.spec);
    } catch (const ConfigError& e) {
      advice.skipped.push_back(fmt::format("{}: cannot be built at depth {}: {}", name, o.spec.depth, e.what()));
      continue;
    }
    if (c.sets.empty()) {
      advice.skipped.push_back(name + ": the model has it already");
      continue;
    }
    candidates.push_back(c);
  }
  if (o.predict_first) rule_out_by_prediction(o, candidates, advice, say);
  for (const auto& s : advice.skipped) say("left out " + s);

  ProbePlan plan;
  for (const auto& c : candidates) plan.specs.push_back(c.spec);
  plan.depths = {o.spec.depth};
  for (int s = 0; s < o.seeds; ++s) plan.seeds.push_back(uint64_t(s));
  plan.input = o.input, plan.seq = o.seq, plan.batch = o.batch, plan.device = o.device;
  const auto probe_start = std::chrono::steady_clock::now();
  const auto rows = run_probe_plan(plan, progress);
  if (advice.ruled_out > 0) {
    const double per_model =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - probe_start).count() /
        double(candidates.size());
    advice.probe_seconds_saved = per_model * advice.ruled_out;
    say(fmt::format("predict ruled out {} fix(es) in {:.1f}s; probing them would have taken about {:.1f}s",
                    advice.ruled_out, advice.predict_seconds, advice.probe_seconds_saved));
  }
  double chance = NAN;
  if (o.input == ProbeInput::KJV) chance = std::log(double(load_kjv().vocab.size()));

  std::map<std::string, std::map<uint64_t, std::vector<LayerMetrics>>> by_model;
  for (const auto& r : rows) by_model[r.preset][r.seed].push_back(r.m);
  for (auto& c : candidates) {
    std::vector<std::vector<LayerMetrics>> seeds;
    for (auto& [seed, layers] : by_model.at(c.spec.name)) seeds.push_back(layers);
    c.diagnosis = diagnose(seeds, chance, o.thresholds, o.weights);
  }
  advice.as_is = candidates.front();
  advice.ranked.assign(candidates.begin() + 1, candidates.end());
  std::stable_sort(advice.ranked.begin(), advice.ranked.end(), [&o](const auto& a, const auto& b) {
    return ranks_before(a.diagnosis, b.diagnosis, o.tie_break);
  });

  if (o.train_steps > 0) {
    RaceOptions race = o.race;
    race.config.steps = o.train_steps;
    race.reference = "as-is";
    race.specs = {advice.as_is.spec};
    const size_t top = std::min(advice.ranked.size(), size_t(o.confirm_top));
    for (size_t i = 0; i < top; ++i) race.specs.push_back(advice.ranked[i].spec);
    advice.race_out = race.out;
    say(fmt::format("confirming: a {}-step race of the model as it is and the top {} fixes in {}",
                    o.train_steps, top, race.out));
    const RaceResult r = run_race(race, log, stop);
    if (r.interrupted) {
      advice.interrupted = true;
      return advice;
    }
    for (const auto& row : r.best) {
      AdviseCandidate* c = row.preset == "as-is" ? &advice.as_is : nullptr;
      for (auto& f : advice.ranked)
        if (f.name == row.preset) c = &f;
      c->val_loss = row.val_loss, c->lr = row.lr, c->race_status = row.status;
    }
    advice.target_loss = advice.as_is.val_loss;
  }
  advice.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return advice;
}

namespace {

// "likely to train", "at risk", "unlikely to train well": the verdict for a score. [guess]
// cut-offs, reported beside the score, never instead of it.
std::string verdict(const Diagnosis& d) {
  if (!d.finite) return "will not train as it is (it overflows at init)";
  if (d.score > -0.5) return "likely to train: no finding that matters past its threshold";
  if (d.score > -2) return "at risk: findings past their thresholds";
  return "unlikely to train well as it is";
}

Json num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }
double num(const Json& v) { return v.is_number() ? v.get<double>() : NAN; }

Json candidate_json(const AdviseCandidate& c) {
  Json j = {{"name", c.name}, {"sets", c.sets}, {"config", spec_to_json(c.spec)},
            {"diagnosis", diagnosis_to_json(c.diagnosis)}};
  if (!c.race_status.empty())
    j["race"] = {{"val_loss", num(c.val_loss)}, {"lr", c.lr}, {"status", c.race_status}};
  return j;
}

// A diagnosis's gradient balance as text; null in JSON is "inf" when a ratio is 0 (the JSON
// reader's rule), "n/a" when not measured.
std::string balance_text(const Json& diagnosis) {
  const double b = diagnosis_from_json(diagnosis).balance;
  return std::isinf(b) ? "inf" : number(b);
}

double finding_value(const Json& candidate, const std::string& name) {
  for (const auto& f : candidate.at("diagnosis").at("findings"))
    if (f.at("name") == name) return num(f.at("value"));
  return NAN;
}

}  // namespace

Json diagnosis_to_json(const Diagnosis& d) {
  Json j = {{"score", d.score}, {"balance", num(d.balance)}, {"verdict", verdict(d)}, {"depth", d.depth},
            {"finite", d.finite}, {"findings", Json::array()}};
  for (const auto& f : d.findings)
    j["findings"].push_back({{"name", f.name}, {"present", f.present}, {"value", num(f.value)},
                             {"threshold", num(f.threshold)}, {"block", f.block},
                             {"penalty", f.penalty}, {"text", f.text}});
  return j;
}

Diagnosis diagnosis_from_json(const Json& j) {
  Diagnosis d;
  try {
    d.score = j.at("score").get<double>();
    // +inf does not survive JSON (null); a null balance with both ratios measured was infinite.
    d.balance = num(j.value("balance", Json(nullptr)));
    d.depth = j.value("depth", 0), d.finite = j.value("finite", true);
    for (const auto& f : j.at("findings")) {
      Finding x{f.at("name").get<std::string>()};
      x.present = f.at("present").get<bool>(), x.value = num(f.at("value")), x.threshold = num(f.at("threshold"));
      x.block = f.value("block", -1), x.penalty = f.at("penalty").get<double>();
      x.text = f.value("text", std::string());
      d.findings.push_back(x);
    }
  } catch (const Json::exception& e) {
    throw ConfigError(fmt::format("not a diagnosis in advice.json's layout: {}", e.what()));
  }
  if (std::isnan(d.balance)) {
    const double s = d.finding("gradient_spread").value, q = d.finding("qk_starvation").value;
    if (!std::isnan(s) && !std::isnan(q) && (s == 0 || q == 0)) d.balance = INFINITY;
  }
  return d;
}

Json advice_to_json(const Advice& a, const AdviseOptions& o) {
  Json j;
  j["model"] = candidate_json(a.as_is);
  j["model"]["name"] = o.spec.name;
  j["verdict"] = verdict(a.as_is.diagnosis);
  j["ranking"] = Json::array();
  for (const auto& c : a.ranked) j["ranking"].push_back(candidate_json(c));
  j["skipped"] = a.skipped;
  if (o.predict_first)
    j["predict_first"] = {{"margin", o.predict_margin}, {"ruled_out", a.ruled_out},
                          {"predict_seconds", a.predict_seconds}, {"probe_seconds_saved", a.probe_seconds_saved}};
  j["recommendation"] = a.ranked.empty() || !ranks_before(a.ranked.front().diagnosis, a.as_is.diagnosis, o.tie_break)
                            ? Json(nullptr)
                            : Json(a.ranked.front().name);
  j["tie_break"] = to_string(o.tie_break);
  j["thresholds"] = {{"collapse_cosine", o.thresholds.collapse_cosine}, {"qk_ratio", o.thresholds.qk_ratio},
                     {"spectral_gap", o.thresholds.spectral_gap},
                     {"gradient_spread", o.thresholds.gradient_spread},
                     {"loss_excess", o.thresholds.loss_excess}};
  j["weights"] = {{"collapse", o.weights.collapse}, {"qk", o.weights.qk}, {"gap", o.weights.gap},
                  {"spread", o.weights.spread}, {"loss", o.weights.loss}};
  j["probe"] = {{"input", to_string(o.input)}, {"seq", o.seq}, {"batch", o.batch}, {"seeds", o.seeds}};
  if (!a.race_out.empty()) {
    j["race"] = {{"out", a.race_out}, {"steps", o.train_steps}, {"data", o.race.config.data},
                 {"lr_grid", o.race.lr_grid.empty() ? std::vector<double>{o.race.config.lr} : o.race.lr_grid}};
    const AdviseCandidate* best = &a.as_is;
    for (const auto& c : a.ranked)
      if (std::isfinite(c.val_loss) && !(c.val_loss >= best->val_loss)) best = &c;
    j["race"]["best"] = best->name;
  }
  j["seconds"] = a.seconds;
  return j;
}

std::string advice_text(const Advice& a, const AdviseOptions& o) { return advice_text(advice_to_json(a, o)); }

std::string advice_text(const Json& j) {
  const Json& d = j.at("model").at("diagnosis");
  std::string out = fmt::format("{} (score {:.2f}; 0 = nothing found, lower is worse)\n",
                                d.at("verdict").get<std::string>(), d.at("score").get<double>());
  for (const auto& f : d.at("findings"))
    out += fmt::format("  {} {}\n", f.at("present").get<bool>() ? "!" : "-", f.at("text").get<std::string>());
  const Json& ranking = j.at("ranking");
  const Json skipped = j.value("skipped", Json::array());
  if (ranking.empty() && skipped.empty()) return out;  // diagnosed alone
  const bool raced = j.contains("race");
  // A race on the user's own batches (sigprop.advise of a foreign model) reports the final
  // training loss of the user's loss function, not a validation loss: it says which.
  const bool train_loss = raced && j["race"].value("loss", std::string("validation")) == "train";
  out += fmt::format("\nfixes ranked by score{}:\n",
                     !raced ? "" : train_loss ? ", with the confirming race's final training loss"
                                              : ", with the confirming race's validation loss");
  out += fmt::format("  {:<4}{:<24}{:>7}{:>9}{:>10}{:>9}{:>9}{}  {}\n", "", "model", "score", "balance", "cosine",
                     "gq/gv", "spread", !raced ? "" : train_loss ? "  tr. loss" : "  val loss", "--set");
  const auto sets_of = [](const Json& c, const char* sep) {
    std::string sets;
    for (const auto& s : c.value("sets", Json::array())) sets += (sets.empty() ? "" : sep) + s.get<std::string>();
    return sets;
  };
  const auto line = [&](const std::string& rank, const Json& c, const std::string& name) {
    const double val = c.contains("race") ? num(c["race"].at("val_loss")) : NAN;
    return fmt::format("  {:<4}{:<24}{:>7.2f}{:>9}{:>9}{:>10}{:>9}{}  {}\n", rank, name,
                       c.at("diagnosis").at("score").get<double>(), balance_text(c.at("diagnosis")),
                       number(finding_value(c, "rank_collapse")),
                       number(finding_value(c, "qk_starvation")), number(finding_value(c, "gradient_spread")),
                       raced ? fmt::format("{:>10}", number(val)) : "", sets_of(c, " "));
  };
  out += line("", j.at("model"), "as-is");
  for (size_t i = 0; i < ranking.size(); ++i)
    out += line(fmt::format("{}.", i + 1), ranking[i], ranking[i].at("name").get<std::string>());
  for (const auto& s : skipped) out += "  left out: " + s.get<std::string>() + "\n";
  if (!ranking.empty()) {
    const Json& top = ranking.front();
    if (!j.value("recommendation", Json(nullptr)).is_null()) {
      const std::string sets = sets_of(top, " --set ");
      out += fmt::format("\nrecommended: {} (score {:.2f} -> {:.2f}, balance {} -> {}){}{}\n",
                         top.at("name").get<std::string>(), d.at("score").get<double>(),
                         top.at("diagnosis").at("score").get<double>(), balance_text(d),
                         balance_text(top.at("diagnosis")), sets.empty() ? "" : ": --set ", sets);
    } else {
      out += "\nno fix scores better than the model as it is\n";
    }
  }
  if (raced) out += fmt::format("the race's best: {}\n", j["race"].value("best", std::string("?")));
  return out;
}

StudyOutput advice_output(const Advice& a, const AdviseOptions& o) {
  StudyOutput out;
  out.command = "advise";
  const Json j = advice_to_json(a, o);
  out.params = {{"model", spec_to_json(o.spec)}, {"probe", j["probe"]}, {"thresholds", j["thresholds"]},
                {"weights", j["weights"]}, {"train_steps", o.train_steps}};
  out.headline = {{"score", a.as_is.diagnosis.score}, {"recommendation", j["recommendation"]}};
  out.files.emplace_back("advice.json", j.dump(2) + "\n");
  std::string csv = "rank,name,score,balance,final_cosine,grad_q_over_v,attn_gap,grad_spread,initial_loss_excess,"
                    "non_finite_seeds,val_loss,lr,sets\n";
  std::vector<const AdviseCandidate*> all{&a.as_is};
  for (const auto& c : a.ranked) all.push_back(&c);
  for (size_t i = 0; i < all.size(); ++i) {
    const AdviseCandidate& c = *all[i];
    std::string sets;
    for (const auto& s : c.sets) sets += (sets.empty() ? "" : " ") + s;
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", i, c.name, csv_number(c.diagnosis.score),
                       csv_number(c.diagnosis.balance),
                       csv_number(c.diagnosis.finding("rank_collapse").value),
                       csv_number(c.diagnosis.finding("qk_starvation").value),
                       csv_number(c.diagnosis.finding("spectral_gap").value),
                       csv_number(c.diagnosis.finding("gradient_spread").value),
                       csv_number(c.diagnosis.finding("initial_loss").value),
                       csv_number(c.diagnosis.finding("non_finite").value),
                       std::isfinite(c.val_loss) ? csv_number(c.val_loss) : "",
                       std::isfinite(c.lr) ? csv_number(c.lr) : "", sets);
  }
  out.files.emplace_back("advice.csv", csv);
  // The score of each candidate as a bar, the model as it is first.
  std::string rows, tics;
  for (size_t i = 0; i < all.size(); ++i) {
    rows += fmt::format("{} {:.6g}\n", i, all[i]->diagnosis.score);
    tics += fmt::format("{}'{}' {}", i ? ", " : "", gnuplot_text(all[i]->name), i);
  }
  out.plot_name = "advice";
  out.plot_width = 1100, out.plot_height = 550;
  out.plot_script = gnuplot_datablock("S", rows) +
                    fmt::format("set title '{}'\n", gnuplot_text(fmt::format(
                        "advise: {} at depth {}, width {}: predicted trainability (0 = nothing found)",
                        o.spec.name, o.spec.depth, o.spec.width))) +
                    "set style fill solid 0.6\nset boxwidth 0.7\nset grid ytics\nset ylabel 'score'\n"
                    "set xtics rotate by -35 (" + tics + ")\nset xrange [-0.6:" +
                    fmt::format("{}", all.size() - 0.4) + "]\nplot $S using 1:2 with boxes notitle\n";
  out.summary = advice_text(j);
  return out;
}

}  // namespace sigprop
